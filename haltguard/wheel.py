"""Build the kernel-only wheel (haltguard-kernel, py3-none-any) from kernel/."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from haltguard.paths import KERNEL_SRC, require_checkout


def build_kernel_wheel(out_dir: str | Path | None = None) -> Path:
    """Build with the venv's hatchling (no isolation: works offline); returns the wheel path."""
    require_checkout("building the kernel wheel")
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="haltguard-kernel-"))
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(KERNEL_SRC)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kernel wheel build failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    wheels = sorted(out.glob("haltguard_kernel-*-py3-none-any.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise RuntimeError(f"no kernel wheel produced in {out}")
    return wheels[-1]
