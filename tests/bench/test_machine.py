"""The CPU facts printed beside model timings."""

from __future__ import annotations

from haltguard.bench.machine import ISA_FLAGS, cpu_info

SPR = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 avx512_fp16

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 avx512_fp16
"""
EPYC = "model name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx avx2 fma bmi2\n"


def test_cpu_info_names_the_model_and_the_gemm_relevant_flags():
    info = cpu_info(SPR)
    assert info["model"] == "Intel(R) Xeon(R) Processor"
    assert info["isa"] == ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"]
    assert cpu_info(EPYC) == {**cpu_info(EPYC), "model": "AMD EPYC 7B13", "isa": ["avx2", "fma"]}


def test_cpu_info_of_this_machine_is_well_formed():
    info = cpu_info()
    assert isinstance(info["model"], str) and info["cores"] >= 1
    assert set(info["isa"]) <= set(ISA_FLAGS)
