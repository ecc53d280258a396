"""`haltguard bundle`: assemble the static browser/Worker bundle (no CDN at run time).

Works from a checkout and from an installed package alike: the JS/worker/demo sources are
package data (``haltguard.wasm``), the model is found by ``haltguard.kernel.resources``, the
kernel wheel is written from the kernel package, and the two npm packages (Pyodide,
onnxruntime-web) come from ``wasm/node_modules`` in a checkout or, installed, are fetched
once from the npm registry with ``npm ci`` (pinned by the shipped package-lock.json) into
the user cache (``$XDG_CACHE_HOME/haltguard/npm/<lock hash>``); nothing is fetched at run time.

Layout of the output folder (served by the host under /bundle/)::

    pyodide/   Pyodide core from npm (pyodide.mjs, pyodide.asm.{mjs,wasm}, python_stdlib.zip, lock)
    ort/       onnxruntime-web, wasm-only build (ort.wasm.min.mjs + ort-wasm-simd-threaded.{mjs,wasm})
    model/     the default int8 model, vocab.txt, manifest.json
    names/     the name model of the detector (int8), vocab.txt, manifest.json
    haltguard_kernel-*.whl, haltguard.mjs (the JS API), worker.mjs + hg_worker.py (the worker)
    index.html, demo.mjs, demo.css (the demo page), bundle.json (parts and sizes)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from haltguard.kernel.resources import bundle_dir, cache_dir, model_dir
from haltguard.kernel.scoring import read_manifest
from haltguard.models.ner_model import read_ner_manifest
from haltguard.wheel import build_kernel_wheel

__all__ = ["build_bundle", "web_sources", "node_modules"]
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]
ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
MODEL_FILES = ["manifest.json", "vocab.txt"]
OWN_FILES = {"src": ["haltguard.mjs", "worker.mjs", "hg_worker.py"], "demo": ["index.html", "demo.mjs", "demo.css"]}


def web_sources() -> Path:
    """The folder of the bundle's own sources (``wasm/`` in a checkout, ``haltguard/wasm`` installed)."""
    import haltguard.wasm

    return Path(haltguard.wasm.__file__).resolve().parent


def node_modules(web: Path | None = None) -> Path:
    """Pyodide and onnxruntime-web: ``HALTGUARD_NODE_MODULES``, the checkout's ``wasm/node_modules``,
    else ``npm ci`` into the cache."""
    given = os.environ.get("HALTGUARD_NODE_MODULES")
    if given:
        return Path(given)
    web = web or web_sources()
    local = web / "node_modules"
    if (local / "pyodide").is_dir():
        return local
    lock = (web / "package-lock.json").read_bytes()
    target = cache_dir() / "npm" / hashlib.sha256(lock).hexdigest()[:16]
    stamp = target / "node_modules" / ".haltguard-complete"
    if stamp.exists():
        return target / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("haltguard bundle: npm is needed once to fetch Pyodide and onnxruntime-web from the npm "
                         "registry (apt-get install npm, or set HALTGUARD_NODE_MODULES to a node_modules folder)")
    target.mkdir(parents=True, exist_ok=True)
    for f in ("package.json", "package-lock.json"):
        shutil.copy2(web / f, target / f)
    print(f"haltguard bundle: fetching the pinned npm packages into {target} (once)", file=sys.stderr)
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"haltguard bundle: npm ci failed in {target}:\n{proc.stderr[-2000:]}")
    stamp.write_text("ok")
    return target / "node_modules"


def _copy(src: Path, dst: Path) -> int:
    if not src.exists():
        raise SystemExit(f"haltguard bundle: {src} is missing (run scripts/setup.sh: npm ci in wasm/)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst.stat().st_size


def _check_model(mdir: Path, manifest: dict[str, Any]) -> None:
    """Refuse, before anything is copied, a model the worker would feed wrong ids or cannot load.

    The worker tokenises with the kernel's lower-casing WordPiece and runs the int8 file; a
    BPE, SentencePiece or cased model would score garbage without any error in the page.
    """
    tok = manifest.get("tokenizer") or {}
    if tok.get("kind") != "wordpiece" or not tok.get("lowercase", False) or not tok.get("kernel", True):
        why = tok.get("kernel_mismatch") or f"{tok.get('kind')} tokenizer, lowercase={tok.get('lowercase')}"
        raise SystemExit(f"haltguard bundle: {mdir} cannot run in the browser worker, which tokenises "
                         f"with the kernel's uncased BERT WordPiece ({why})")
    if "int8" not in manifest.get("onnx", {}):
        raise SystemExit(f"haltguard bundle: {mdir} has no int8 model (export it with --int8)")


def build_bundle(out: str | Path | None = None, model: str | Path | None = None,
                 names: str | Path | None = None) -> dict[str, Any]:
    out = bundle_dir(out)
    mdir = model_dir(model)
    manifest = read_manifest(mdir)
    _check_model(mdir, manifest)
    ndir = model_dir(names, kind="names")
    names_manifest = read_ner_manifest(ndir)
    web = web_sources()
    nm = node_modules(web)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    parts: dict[str, int] = {"pyodide": 0, "onnxruntime-web": 0, "model": 0, "name model": 0, "kernel wheel": 0,
                             "js api + worker + demo": 0}
    for f in PYODIDE_FILES:
        parts["pyodide"] += _copy(nm / "pyodide" / f, out / "pyodide" / f)
    for f in ORT_FILES:
        parts["onnxruntime-web"] += _copy(nm / "onnxruntime-web" / "dist" / f, out / "ort" / f)
    for f in MODEL_FILES + [manifest["onnx"]["int8"]]:
        parts["model"] += _copy(mdir / f, out / "model" / f)
    for f in MODEL_FILES + [names_manifest["onnx"]["int8"]]:
        parts["name model"] += _copy(ndir / f, out / "names" / f)
    wheel = build_kernel_wheel(out)
    parts["kernel wheel"] = wheel.stat().st_size
    for folder, files in OWN_FILES.items():
        for f in files:
            parts["js api + worker + demo"] += _copy(web / folder / f, out / f)
    info = {"wheel": wheel.name, "parts_bytes": parts, "total_bytes": sum(parts.values()),
            "model": {"variant": "int8", "file": manifest["onnx"]["int8"], "threshold": manifest.get("threshold")}}
    (out / "bundle.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return {"out": str(out), **info}
