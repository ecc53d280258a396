import { createGuard } from "./haltguard.mjs";

const CONTEXT = "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower for the 1889 World's Fair. The tower is 330 metres tall and was the tallest man-made structure in the world until 1930. About seven million people visit it every year.";
const ANSWER = "The Eiffel Tower stands on the Champ de Mars in Paris. It was built by the company of the engineer Gustave Eiffel for the World's Fair of 1889. The tower is 330 metres tall. Around seven million people visit it each year, and many climb to the top. It remained the tallest structure in the world until 1950. In 1925 it was moved to Berlin by order of Napoleon, who also painted it gold.";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("context").value = CONTEXT;

function drawChart(scores, threshold) {
  const svg = $("chart"), W = 600, H = 180, pad = 24;
  const x = (i) => pad + (i * (W - 2 * pad)) / Math.max(1, scores.length - 1 || 1);
  const y = (v) => H - pad - v * (H - 2 * pad);
  let s = `<line x1="${pad}" x2="${W - pad}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="#d23c3c" stroke-dasharray="4 4"/>`;
  s += `<text x="${W - pad}" y="${y(threshold) - 4}" font-size="11" text-anchor="end" fill="#d23c3c">threshold ${threshold.toFixed(2)}</text>`;
  if (scores.length) {
    s += `<polyline fill="none" stroke="#3a5bd9" stroke-width="2.5" points="${scores.map((v, i) => `${x(i)},${y(v)}`).join(" ")}"/>`;
    scores.forEach((v, i) => { s += `<circle cx="${x(i)}" cy="${y(v)}" r="4.5" fill="${v < threshold ? "#d23c3c" : "#1f9d63"}"/>`; });
  }
  svg.innerHTML = s;
}

async function* words(text, delay) {
  for (const w of text.match(/\s*\S+/g)) { if (delay) await new Promise((r) => setTimeout(r, delay)); yield w; }
}

async function run({ delay = 35 } = {}) {
  const g = window.hg.guard;
  $("run").disabled = true; $("answer").innerHTML = ""; $("halt").hidden = true; $("warnings").innerHTML = "";
  const scores = [], frames = [];
  const threshold = g.info.threshold;
  drawChart(scores, threshold);
  const pending = document.createElement("span"); pending.className = "pending"; pending.textContent = " …checking";
  $("answer").append(pending);
  $("stream-state").textContent = "streaming";
  for await (const f of g.stream(words(ANSWER, delay), { context: $("context").value })) {
    frames.push(f);
    if (f.type === "release") {
      const span = document.createElement("span"); span.className = "sent"; span.textContent = f.text;
      pending.before(span);
    } else if (f.type === "score" && f.value != null) {
      scores.push(f.value); drawChart(scores, threshold);
    } else if (f.type === "warning") {
      const d = document.createElement("div"); d.className = "warning"; d.textContent = `▲ ${f.code}: ${f.message}`; $("warnings").append(d);
    } else if (f.type === "halt") {
      $("halt").hidden = false;
      $("halt-reason").textContent = `${f.reason}: ${f.message}`;
      const ev = f.evidence || {};
      $("halt-sentence").textContent = ev.sentence || "";
      $("halt-evidence").textContent = ev.evidence || "";
      $("halt-support").textContent = ev.support != null ? `${ev.support} (${ev.verdict})` : "";
    }
  }
  pending.remove();
  const done = frames.find((f) => f.type === "done");
  $("stream-state").textContent = done && done.record.halted ? "halted" : "complete";
  $("run").disabled = false;
  window.hg.lastRun = { frames, scores };
  return window.hg.lastRun;
}

let session = null;
async function doTransform() {
  const r = await window.hg.guard.transform($("prompt").value);
  if (r.error) { $("safe").textContent = `blocked: ${r.error.code}`; return r; }
  session = r.session;
  $("safe").textContent = r.safe_text;
  $("entities").querySelector("tbody").innerHTML = r.entities.map((e) => `<tr><td class="mono">${e.token}</td><td>${e.type}</td><td>${e.span.start}–${e.span.end}</td></tr>`).join("");
  $("rehydrate").disabled = false;
  return r;
}
async function doRehydrate() {
  const r = await window.hg.guard.rehydrate($("reply").value, session);
  $("restored").textContent = r.restored_text;
  return r;
}

window.hg = { ready: null, guard: null, run, doTransform, doRehydrate };
window.hg.ready = (async () => {
  const model = params.get("model") === "none" ? null : "model/";
  const t0 = performance.now();
  const guard = await createGuard({ model, hostUrl: location.origin, apiKey: params.get("key") || undefined,
                                    threads: params.get("threads") ? Number(params.get("threads")) : undefined,
                                    firstScoreBudgetMs: params.has("budget") ? Number(params.get("budget")) : undefined });
  window.hg.guard = guard;
  window.hg.readyMs = performance.now() - t0;
  const i = guard.info;
  $("status").textContent = `ready in ${(window.hg.readyMs / 1000).toFixed(1)} s · scorer: ${i.backend}` +
    (i.threads ? ` · ${i.threads} thread(s)` : "") + (i.firstScoreMs ? ` · first score ${i.firstScoreMs.toFixed(0)} ms` : "");
  for (const id of ["run", "transform"]) $(id).disabled = false;
  $("run").onclick = () => run();
  $("transform").onclick = doTransform;
  $("rehydrate").onclick = doRehydrate;
  drawChart([], i.threshold);
  return i;
})().catch((e) => { $("status").textContent = `failed: ${e.message}`; throw e; });
