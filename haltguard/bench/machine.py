"""What CPU a benchmark ran on: model timings here differ 2x between an AVX2-only core and one
with AVX-512 VNNI/AMX, so a figure without the instruction set is not comparable."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# instruction-set flags that change the speed of the model's float and integer GEMMs
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_info(cpuinfo: str | None = None) -> dict[str, Any]:
    """CPU model, core count and the ISA_FLAGS it has (Linux /proc/cpuinfo; elsewhere what platform knows)."""
    if cpuinfo is None:
        p = Path("/proc/cpuinfo")
        cpuinfo = p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""
    model, flags = platform.processor() or platform.machine(), set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
            model = value.strip()
        elif key == "flags":
            flags = set(value.split())
            break  # every core lists the same flags; "model name" comes before them
    return {"model": model, "cores": os.cpu_count(), "isa": [f for f in ISA_FLAGS if f in flags]}
