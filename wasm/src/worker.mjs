// haltguard worker: Pyodide (kernel wheel) + onnxruntime-web, in a module Web Worker or in Node.
// The page never blocks: every call is a message; Python tokenises, halts and judges,
// onnxruntime-web runs the model, and the host's /v1/score is the fallback scorer.
import { loadPyodide } from "./pyodide/pyodide.mjs";

let py = null, hg = null, ort = null, session = null, remote = null, namesSession = null;
let threshold = 0.5, maxLength = 256;

const IN_NODE = typeof process !== "undefined" && !!(process.versions && process.versions.node);

async function fetchBytes(url) {
  if (IN_NODE && String(url).startsWith("file:")) {  // Node/edge runtime reading the bundle from disk
    const { readFile } = await import("node:fs/promises");
    return new Uint8Array(await readFile(new URL(url)));
  }
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

// The only model code in JS: run the session and hand the logits (one row per pair) to Python.
async function modelLogits(pairs, lengthOverride = 0) {
  const enc = JSON.parse(hg.encode(JSON.stringify(pairs), lengthOverride));
  const shape = [enc.batch, enc.length];
  const t = (a) => new ort.Tensor("int64", BigInt64Array.from(a, (x) => BigInt(x)), shape);
  const feeds = { input_ids: t(enc.ids), attention_mask: t(enc.mask) };
  if (session.inputNames.includes("token_type_ids")) feeds.token_type_ids = t(enc.types);
  const out = await session.run(feeds);
  const logits = out[session.outputNames[0]].data;
  const k = logits.length / enc.batch, rows = [];
  for (let b = 0; b < enc.batch; b++) rows.push(Array.from(logits.slice(b * k, (b + 1) * k), Number));
  return rows;
}

// The name model: run its session on the chunks Python cut, hand back the logits at each chunk's word heads.
async function nameLogits(chunks) {
  const width = Math.max(...chunks.map((c) => c.ids.length)), shape = [chunks.length, width];
  const ids = new BigInt64Array(chunks.length * width), mask = new BigInt64Array(chunks.length * width);
  chunks.forEach((c, b) => c.ids.forEach((x, i) => { ids[b * width + i] = BigInt(x); mask[b * width + i] = 1n; }));
  const feeds = { input_ids: new ort.Tensor("int64", ids, shape), attention_mask: new ort.Tensor("int64", mask, shape) };
  if (namesSession.inputNames.includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(ids.length), shape);
  const out = (await namesSession.run(feeds))[namesSession.outputNames[0]];
  const k = out.dims[2], data = out.data;
  return chunks.map((c, b) => c.heads.map((h) => Array.from(data.slice((b * width + h) * k, (b * width + h + 1) * k), Number)));
}

async function runModel(pairs, lengthOverride = 0) {
  return JSON.parse(hg.supports(JSON.stringify(await modelLogits(pairs, lengthOverride))));
}

async function hostPost(path, body) {
  const r = await fetch(new URL(path, remote.hostUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...(remote.apiKey ? { authorization: `Bearer ${remote.apiKey}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`host ${path}: HTTP ${r.status}`);
  return r.json();
}

async function scoreRemote(pairs) {
  return (await hostPost("/v1/score", { pairs: pairs.map(([premise, hypothesis]) => ({ premise, hypothesis })) })).scores;
}

// onnxruntime-web from the bundle, once (the NLI model and the name model share it)
async function loadOrt(base, opts) {
  if (ort) return;
  ort = await import(new URL("ort/ort.wasm.min.mjs", base).href);
  const ortDir = new URL("ort/", base);
  ort.env.wasm.wasmPaths = IN_NODE && ortDir.protocol === "file:" ? decodeURIComponent(ortDir.pathname) : ortDir.href;
  ort.env.wasm.numThreads = opts.threads ?? (globalThis.crossOriginIsolated ? 2 : 1);
}

let backend = "none";
async function init(opts) {
  const base = new URL(opts.baseUrl);
  const t0 = performance.now();
  let indexURL = new URL("pyodide/", base).href;
  if (IN_NODE && indexURL.startsWith("file:")) indexURL = decodeURIComponent(new URL(indexURL).pathname);
  py = await loadPyodide({ indexURL });
  const tBoot = performance.now() - t0;
  const wheel = await fetchBytes(new URL(opts.wheel, base));
  py.unpackArchive(wheel, "wheel", { extractDir: py.runPython("import site; site.getsitepackages()[0]") });
  py.FS.writeFile("/home/pyodide/hg_worker.py", await fetchBytes(new URL("hg_worker.py", base)));
  py.registerJsModule("hg_js", {
    logits: async (pairsJson) => JSON.stringify(await modelLogits(JSON.parse(pairsJson))),
    name_logits: async (chunksJson) => JSON.stringify(await nameLogits(JSON.parse(chunksJson))),
    review: async (bodyJson) => JSON.stringify(await hostPost("/v1/review", JSON.parse(bodyJson))),
  });
  py.runPython("import sys; sys.path.insert(0, '/home/pyodide')");
  hg = py.pyimport("hg_worker");
  remote = opts.hostUrl ? { hostUrl: opts.hostUrl, apiKey: opts.apiKey } : null;
  const info = { pyodideBootMs: tBoot, backend: "none" };
  if (opts.model) {
    const mdir = new URL(opts.model, base);
    const manifest = new TextDecoder().decode(await fetchBytes(new URL("manifest.json", mdir)));  // Python reads it
    const vocab = new TextDecoder().decode(await fetchBytes(new URL("vocab.txt", mdir)));
    const meta = JSON.parse(hg.setup(vocab, manifest));
    threshold = meta.threshold; maxLength = meta.max_length;
    await loadOrt(base, opts);
    const bytes = await fetchBytes(new URL(meta.int8_file, mdir));
    const t1 = performance.now();
    session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    info.modelLoadMs = performance.now() - t1;
    const t2 = performance.now();
    await runModel([["The tower is in Paris.", "The tower is in Paris."]]);
    info.firstScoreMs = performance.now() - t2;
    backend = "onnx";
    if (remote && opts.firstScoreBudgetMs != null && info.firstScoreMs > opts.firstScoreBudgetMs) {
      backend = "host"; info.fallbackReason = `first score took ${info.firstScoreMs.toFixed(0)} ms > budget ${opts.firstScoreBudgetMs} ms`;
      hg.setup("", manifest);  // streams are judged by the host from now on
    }
    info.threads = ort.env.wasm.numThreads;
  } else if (remote) {
    const r = await fetch(new URL("/v1/ready", remote.hostUrl));
    const ready = await r.json();
    // the host windows and judges with its own model: its threshold is the one that applies here
    const meta = JSON.parse(hg.setup("", JSON.stringify({ threshold: ready.model.threshold })));
    threshold = meta.threshold;
    backend = "host";
  }
  if (opts.names) {  // the name model of the detector: names, places, organisations, addresses
    const ndir = new URL(opts.names, base);
    const nmeta = JSON.parse(hg.setup_names(new TextDecoder().decode(await fetchBytes(new URL("vocab.txt", ndir))),
                                            new TextDecoder().decode(await fetchBytes(new URL("manifest.json", ndir)))));
    await loadOrt(base, opts);
    const t3 = performance.now();
    namesSession = await ort.InferenceSession.create(await fetchBytes(new URL(nmeta.int8_file, ndir)), { executionProviders: ["wasm"] });
    info.namesLoadMs = performance.now() - t3;
  }
  info.names = !!namesSession;
  info.backend = backend;
  info.threshold = threshold;
  info.maxLength = maxLength;
  return info;
}

const handlers = {
  init,
  detect: async ({ text, policy }) => JSON.parse(await hg.detect(text, policy ? JSON.stringify(policy) : "")),
  transform: async ({ text, policy, session }) =>
    JSON.parse(await hg.transform(text, policy ? JSON.stringify(policy) : "", session ? JSON.stringify(session) : "")),
  rehydrate: ({ text, session }) => JSON.parse(hg.rehydrate(text, JSON.stringify(session))),
  // on-device the kernel's scoring path plans and aggregates and the model scores; else the host does all of it
  score: async ({ pairs }) => {
    if (backend === "none") throw new Error("no scorer: the model is off and no hostUrl was given");
    const scores = backend === "onnx" ? JSON.parse(await hg.score_planned(JSON.stringify(pairs))) : await scoreRemote(pairs);
    return { scores, backend, threshold };
  },
  modelScores: async ({ pairs, length }) => runModel(pairs, length ?? 0),
  streamStart: ({ context, halt }) => {
    if (backend === "none") throw new Error("no scorer: the model is off and no hostUrl was given");
    return hg.stream_start(context, halt ? JSON.stringify(halt) : "");
  },
  streamFeed: async ({ id, chunk }) => JSON.parse(await hg.stream_feed(id, chunk)),
  streamEnd: async ({ id }) => JSON.parse(await hg.stream_end(id)),
  python: async ({ code }) => {
    const r = await py.runPythonAsync(code);
    return r && r.toJs ? r.toJs({ dict_converter: Object.fromEntries }) : r;
  },
};

export async function handle(msg) {
  const fn = handlers[msg.op];
  if (!fn) throw new Error(`unknown op ${msg.op}`);
  return fn(msg.args || {});
}

// In a Worker: answer messages. In Node the module is imported and `handle` called directly.
if (typeof self !== "undefined" && typeof self.postMessage === "function" && typeof window === "undefined") {
  let queue = Promise.resolve();
  self.onmessage = (ev) => {
    const { id, op, args } = ev.data;
    // one at a time: Python state (streams) is not re-entrant across awaits of other calls
    queue = queue.then(async () => {
      try {
        self.postMessage({ id, ok: true, result: await handle({ op, args }) });
      } catch (e) {
        self.postMessage({ id, ok: false, error: String(e && e.message ? e.message : e) });
      }
    });
  };
}
