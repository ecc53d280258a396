// Node smoke of the browser bundle, the way an edge function would run it: the bundle's own
// worker module (Pyodide + kernel wheel + onnxruntime-web) imported and driven directly.
// Usage: node edge_smoke.mjs BUNDLE_DIR PAIRS_JSON_FILE
// Prints one JSON line: boot info, golden-vector failures, parity results, model scores (batched and one by one).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [bundleDir, pairsFile] = process.argv.slice(2);
const base = pathToFileURL(resolve(bundleDir) + "/");
const { handle } = await import(new URL("worker.mjs", base).href);
const bundle = JSON.parse(readFileSync(new URL("bundle.json", base), "utf8"));
const info = await handle({ op: "init", args: { baseUrl: base.href, wheel: bundle.wheel, model: "model/", threads: 1 } });
const py = (code) => handle({ op: "python", args: { code } });
const golden = JSON.parse(await py("import json\nfrom haltguard.kernel import golden\njson.dumps({'n': len(golden.load_vectors()), 'failures': golden.check_vectors()})"));
const parity = JSON.parse(await py("import json\nfrom haltguard.kernel import parity\njson.dumps(parity.run_cases(), sort_keys=True, ensure_ascii=False)"));
const pairs = JSON.parse(readFileSync(pairsFile, "utf8"));
const scores = await handle({ op: "modelScores", args: { pairs } });
const single = [];
for (const p of pairs) single.push((await handle({ op: "modelScores", args: { pairs: [p] } }))[0]);
const python = await py("import sys\nsys.version.split()[0]");
console.log(JSON.stringify({ info, python, golden, parity, scores, single }));
