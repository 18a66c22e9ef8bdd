#!/usr/bin/env bash
# Print the CMAKE_ARGS llama-cpp-python is compiled with on this machine.
#
# Not -march=native: some virtual machines list AMX in /proc/cpuinfo but fault on
# its first instruction (ldtilecfg), and ggml's native build then crashes in its
# AMX matrix multiply on the first token. So ggml gets the instruction sets this
# CPU lists, one by one, and AMX is always left out (the default model is Q4_1,
# which AVX-512/AVX2 kernels handle; AMX would only speed up large prompts).
#
# And ggml's own thread pool instead of OpenMP: libgomp cuts its spin-wait to
# 100 iterations once the process holds more OpenMP threads than CPUs, and any
# live thread that ever ran a parallel torch op (the viewer's slice prefetch, the
# embedder) keeps a team. On 2 cores that made llama.cpp sleep and wake at every
# barrier (5,000 context switches per answer) and decode 2.3x slower, even with
# the background work paused (benchmarks/bench_llm_foreground.py).
set -euo pipefail
# CPUINFO: another cpuinfo file to read (tests)
flags=" $(grep -m1 '^flags' "${CPUINFO:-/proc/cpuinfo}" 2>/dev/null | cut -d: -f2) "
has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
opt() { if has "${@:2}"; then printf -- '-D%s=ON ' "$1"; else printf -- '-D%s=OFF ' "$1"; fi; }
if [ "$(uname -m)" != x86_64 ]; then
  exit 0  # other architectures: ggml's own defaults
fi
printf -- '-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF '
opt GGML_SSE42 sse4_2
opt GGML_AVX avx
opt GGML_AVX2 avx2
opt GGML_FMA fma
opt GGML_F16C f16c
opt GGML_BMI2 bmi2
opt GGML_AVX_VNNI avx_vnni
opt GGML_AVX512 avx512f avx512cd avx512vl avx512dq avx512bw
opt GGML_AVX512_VBMI avx512f avx512vbmi
opt GGML_AVX512_VNNI avx512f avx512_vnni
opt GGML_AVX512_BF16 avx512f avx512_bf16
printf -- '-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF\n'
