// Run Python inside Pyodide (Node), with only the haltguard kernel wheel installed.
// Usage: node run_py.mjs --wheel PATH (--code SRC | --file PY)
// Prints whatever the Python code prints; exit code 0 unless Python raised.
// Nothing is fetched: Pyodide's core files come from wasm/node_modules/pyodide and the
// wheel is unpacked straight into site-packages (micropip is not needed for a pure wheel).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const wheel = opt("--wheel");
const code = opt("--code") ?? (opt("--file") ? readFileSync(opt("--file"), "utf8") : undefined);
if (!wheel || !code) {
  console.error("usage: node run_py.mjs --wheel PATH (--code SRC | --file PY)");
  process.exit(2);
}
const pyodideDir = resolve(here, "../../wasm/node_modules/pyodide");
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const t0 = performance.now();
const py = await loadPyodide({ indexURL: pyodideDir + "/", stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
const bootMs = performance.now() - t0;
const site = py.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
py.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: site });
py.globals.set("PYODIDE_BOOT_MS", bootMs);
try {
  await py.runPythonAsync(code);
} catch (err) {
  console.error(String(err));
  process.exit(1);
}
