"""Write the kernel-only wheel (haltguard-kernel, py3-none-any) from the kernel package itself.

The browser bundle, the Node runner and the tests load the kernel from this wheel. It is
written here with the standard library, from the files of the imported ``haltguard.kernel``
(a checkout's ``kernel/`` or an installed package alike), so ``haltguard bundle`` needs no
build tool and works outside the checkout. ``kernel/pyproject.toml`` builds the same files
with hatchling for publishing; a test checks both hold the same members.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
import zipfile
from pathlib import Path

import haltguard.kernel
from haltguard.kernel._version import __version__

__all__ = ["build_kernel_wheel", "kernel_files"]

_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same wheel bytes


def kernel_files() -> list[tuple[str, Path]]:
    """(archive name, file) for every module and data file of the kernel package."""
    src = Path(haltguard.kernel.__file__).resolve().parent
    files = [p for p in src.rglob("*.py") if "__pycache__" not in p.parts] + sorted((src / "data").glob("*.json"))
    return sorted((f"haltguard/kernel/{p.relative_to(src).as_posix()}", p) for p in files)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16  # rw-r--r-- once installed
    return info


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_kernel_wheel(out_dir: str | Path | None = None) -> Path:
    """Write ``haltguard_kernel-<version>-py3-none-any.whl`` into ``out_dir``; returns its path."""
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="haltguard-kernel-"))
    out.mkdir(parents=True, exist_ok=True)
    dist = f"haltguard_kernel-{__version__}.dist-info"
    meta = {
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: haltguard-kernel\nVersion: {__version__}\n"
                             "Summary: haltguard's standard-library-only kernel: streaming halt, detector, "
                             "pseudonymisation, tokenizer.\nLicense: Apache-2.0\nRequires-Python: >=3.11\n"),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: haltguard.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    path = out / f"haltguard_kernel-{__version__}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        entries = [(name, f.read_bytes()) for name, f in kernel_files()] + [(n, t.encode()) for n, t in meta.items()]
        for name, data in entries:
            z.writestr(_info(name), data, zipfile.ZIP_DEFLATED)
            record.append(_record_line(name, data))
        record.append(f"{dist}/RECORD,,")
        z.writestr(_info(f"{dist}/RECORD"), "\n".join(record) + "\n", zipfile.ZIP_DEFLATED)
    return path
