// haltguard in the browser: one ES module, all work in a module Worker.
//
//   import { createGuard } from "./haltguard.mjs";
//   const guard = await createGuard({ model: "model/", hostUrl: location.origin, halt: {...} });
//   for await (const ev of guard.stream(tokens, { context })) { ... }   // release | warning | halt | score | done
//
// model: folder (relative to the bundle) with manifest.json, vocab.txt and the int8 ONNX file,
//        or null to score on the host. hostUrl: the haltguard host for fallback scoring.
// names: the name model's folder (names, places, organisations, addresses for detect/transform),
//        or null for the recognizers only.
// firstScoreBudgetMs: if the first on-device score is slower, use the host instead.

const BUNDLE = new URL("./", import.meta.url);

class Guard {
  constructor(worker, info, opts) {
    this.worker = worker;
    this.info = info;
    this.opts = opts;
    this._next = 0;
    this._pending = new Map();
    worker.onmessage = (ev) => {
      const { id, ok, result, error } = ev.data;
      const p = this._pending.get(id);
      if (!p) return;
      this._pending.delete(id);
      ok ? p.resolve(result) : p.reject(new Error(error));
    };
  }

  call(op, args) {
    const id = ++this._next;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  detect(text, policy = this.opts.policy) { return this.call("detect", { text, policy }); }
  transform(text, { policy = this.opts.policy, session } = {}) { return this.call("transform", { text, policy, session }); }
  rehydrate(text, session) { return this.call("rehydrate", { text, session }); }
  score(pairs) { return this.call("score", { pairs }); }

  /** Async iterator of frames: released text, scores, warnings, the halt (hold-back mode by default). */
  async *stream(tokens, { context, halt = this.opts.halt } = {}) {
    const id = await this.call("streamStart", { context, halt });
    let halted = false;
    for await (const chunk of tokens) {
      const frames = await this.call("streamFeed", { id, chunk });
      for (const f of frames) { if (f.type === "halt") halted = true; yield f; }
      if (halted) break;
    }
    for (const f of await this.call("streamEnd", { id })) yield f;
  }

  terminate() { this.worker.terminate(); }
}

export async function createGuard(opts = {}) {
  const o = { model: "model/", names: "names/", hostUrl: null, policy: null, halt: null, wheel: null, ...opts };
  const worker = new Worker(new URL("./worker.mjs", BUNDLE), { type: "module" });
  const manifest = await (await fetch(new URL("bundle.json", BUNDLE))).json();
  const guard = new Guard(worker, null, o);
  guard.info = await guard.call("init", {
    baseUrl: BUNDLE.href, wheel: o.wheel || manifest.wheel, model: o.model, names: o.names, hostUrl: o.hostUrl,
    apiKey: o.apiKey, threads: o.threads, firstScoreBudgetMs: o.firstScoreBudgetMs,
  });
  return guard;
}
