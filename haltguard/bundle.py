"""`haltguard bundle`: assemble the static browser/Worker bundle (no CDN at run time).

Layout of the output folder (served by the host under /bundle/)::

    pyodide/   Pyodide core from npm (pyodide.mjs, pyodide.asm.{mjs,wasm}, python_stdlib.zip, lock)
    ort/       onnxruntime-web, wasm-only build (ort.wasm.min.mjs + ort-wasm-simd-threaded.{mjs,wasm})
    model/     the default int8 model, vocab.txt, manifest.json
    haltguard_kernel-*.whl, haltguard.mjs (the JS API), worker.mjs + hg_worker.py (the worker)
    index.html, demo.mjs, demo.css (the demo page), bundle.json (parts and sizes)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from haltguard.paths import REPO, WASM, require_checkout
from haltguard.wheel import build_kernel_wheel

__all__ = ["build_bundle", "DEFAULT_OUT"]

DEFAULT_OUT = REPO / "build" / "wasm-bundle"
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]
ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
MODEL_FILES = ["manifest.json", "vocab.txt"]
OWN_FILES = {"src": ["haltguard.mjs", "worker.mjs", "hg_worker.py"], "demo": ["index.html", "demo.mjs", "demo.css"]}


def _copy(src: Path, dst: Path) -> int:
    if not src.exists():
        raise SystemExit(f"haltguard bundle: {src} is missing (run scripts/setup.sh: npm ci in wasm/)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst.stat().st_size


def _check_model(model_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse, before anything is copied, a model the worker would feed wrong ids or cannot load.

    The worker tokenises with the kernel's lower-casing WordPiece and runs the int8 file; a
    BPE, SentencePiece or cased model would score garbage without any error in the page.
    """
    tok = manifest.get("tokenizer") or {}
    if tok.get("kind") != "wordpiece" or not tok.get("lowercase", False) or not tok.get("kernel", True):
        why = tok.get("kernel_mismatch") or f"{tok.get('kind')} tokenizer, lowercase={tok.get('lowercase')}"
        raise SystemExit(f"haltguard bundle: {model_dir} cannot run in the browser worker, which tokenises "
                         f"with the kernel's uncased BERT WordPiece ({why})")
    if "int8" not in manifest.get("onnx", {}):
        raise SystemExit(f"haltguard bundle: {model_dir} has no int8 model (export it with --int8)")


def build_bundle(out: str | Path | None = None, model_dir: str | Path | None = None) -> dict[str, Any]:
    require_checkout("the browser bundle")
    out = Path(out) if out else DEFAULT_OUT
    model_dir = Path(model_dir) if model_dir else REPO / "models" / "default"
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    _check_model(model_dir, manifest)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    parts: dict[str, int] = {"pyodide": 0, "onnxruntime-web": 0, "model": 0, "kernel wheel": 0, "js api + worker + demo": 0}
    nm = WASM / "node_modules"
    for f in PYODIDE_FILES:
        parts["pyodide"] += _copy(nm / "pyodide" / f, out / "pyodide" / f)
    for f in ORT_FILES:
        parts["onnxruntime-web"] += _copy(nm / "onnxruntime-web" / "dist" / f, out / "ort" / f)
    for f in MODEL_FILES + [manifest["onnx"]["int8"]]:
        parts["model"] += _copy(model_dir / f, out / "model" / f)
    wheel = build_kernel_wheel(out)
    parts["kernel wheel"] = wheel.stat().st_size
    for folder, files in OWN_FILES.items():
        for f in files:
            parts["js api + worker + demo"] += _copy(WASM / folder / f, out / f)
    info = {"wheel": wheel.name, "parts_bytes": parts, "total_bytes": sum(parts.values()),
            "model": {"variant": "int8", "file": manifest["onnx"]["int8"], "threshold": manifest.get("threshold")}}
    (out / "bundle.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return {"out": str(out), **info}
