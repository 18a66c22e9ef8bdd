"""llama.cpp's build flags follow the CPU's listed instruction sets, and never use AMX or OpenMP."""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "llama_cmake_args.sh"

AVX2_ONLY = "sse4_2 avx avx2 fma f16c bmi2"
SAPPHIRE_RAPIDS = ("sse4_2 avx avx2 fma f16c bmi2 avx_vnni avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi "
                   "avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16")


def build_flags(tmp_path, cpu_flags: str) -> dict[str, str]:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {cpu_flags}\n")
    out = subprocess.run(["bash", str(SCRIPT)], env={"CPUINFO": str(cpuinfo), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout
    return dict(arg[2:].split("=", 1) for arg in out.split())


@pytest.mark.skipif(subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip() != "x86_64",
                    reason="the flags are chosen for x86-64 only")
def test_flags_follow_the_cpu_and_leave_out_amx_and_openmp(tmp_path):
    avx2 = build_flags(tmp_path, AVX2_ONLY)
    assert avx2["GGML_NATIVE"] == "OFF" and avx2["GGML_OPENMP"] == "OFF"
    assert avx2["GGML_AVX2"] == "ON" and avx2["GGML_FMA"] == "ON"
    assert avx2["GGML_AVX512"] == "OFF" and avx2["GGML_AVX512_VNNI"] == "OFF" and avx2["GGML_AVX_VNNI"] == "OFF"

    spr = build_flags(tmp_path, SAPPHIRE_RAPIDS)
    assert spr["GGML_AVX512"] == "ON" and spr["GGML_AVX512_VNNI"] == "ON" and spr["GGML_AVX512_BF16"] == "ON"
    assert spr["GGML_AMX_TILE"] == spr["GGML_AMX_INT8"] == spr["GGML_AMX_BF16"] == "OFF"
    assert spr["GGML_OPENMP"] == "OFF"

    partial = build_flags(tmp_path, "sse4_2 avx avx2 fma f16c avx512f")  # AVX-512F without CD/VL/DQ/BW
    assert partial["GGML_AVX512"] == "OFF"
