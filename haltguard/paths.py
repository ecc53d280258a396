"""Where things live in a source checkout (benchmarks, the npm packages, the kernel sources)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_SRC = REPO / "kernel"
BENCHMARKS = REPO / "benchmarks"
WASM = REPO / "wasm"
NODE_RUNNER = REPO / "web_smoke" / "node" / "run_py.mjs"
SCRIPTS = REPO / "scripts"


def require_checkout(what: str) -> None:
    """Benchmarks and the wasm bundle need the source tree, not just an installed wheel."""
    if not (BENCHMARKS.is_dir() and KERNEL_SRC.is_dir()):
        raise SystemExit(f"{what} needs a haltguard source checkout (looked in {REPO})")
