#!/usr/bin/env bash
# Set up MedStation on a fresh Debian machine: system libraries Qt needs, a
# virtual environment at .venv/ and every Python dependency. Idempotent and
# quick when nothing changed (a stamp records the hash of pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

# --- system packages (Qt's xcb/offscreen platforms, Xvfb for headless screens; espeak-ng and ffmpeg
# synthesise and convert the speech the transcription tests use; tests/pacs start their own Orthanc
# (orthanc + orthanc-dicomweb) on free loopback ports, never the service; the store's tests start a
# throw-away PostgreSQL cluster with postgresql's binaries from /usr/lib/postgresql/*/bin) ---
APT_PKGS="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 \
libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 \
libglib2.0-0 xvfb xauth dicom3tools espeak-ng ffmpeg orthanc orthanc-dicomweb postgresql"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = none ]; then
    echo "setup: please install these Debian packages:$missing" >&2
  else
    echo "setup: installing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
fi

# --- Python environment ---
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# llama.cpp's instruction sets, from this CPU's flags (never AMX: see the script).
LLAMA_CMAKE_ARGS=$(bash scripts/llama_cmake_args.sh)
STAMP=.venv/.medstation-deps
WANT=$( (cat pyproject.toml; echo "$LLAMA_CMAKE_ARGS") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  # torch and torchvision first: pip takes both from this machine's disk.
  .venv/bin/python -m pip install -q torch==2.14.1 torchvision==0.29.1
  # llama-cpp-python compiles from source (~11 min on 2 cores); pip keeps the
  # built wheel in its cache, so later set-ups reuse it. A wheel built with other
  # flags (an older -march=native build) is dropped from the cache and the venv first,
  # since pip would otherwise reuse it whatever CMAKE_ARGS says.
  export CMAKE_ARGS="$LLAMA_CMAKE_ARGS"
  export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
  CACHE_MARK="$(.venv/bin/python -m pip cache dir 2>/dev/null || echo /nonexistent)/medstation-llama-cmake-args"
  if [ "$(cat "$CACHE_MARK" 2>/dev/null)" != "$CMAKE_ARGS" ]; then
    .venv/bin/python -m pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
  fi
  if [ "$(cat .venv/.llama-cmake-args 2>/dev/null)" != "$CMAKE_ARGS" ]; then
    .venv/bin/python -m pip uninstall -q -y llama-cpp-python >/dev/null 2>&1 || true
  fi
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$CMAKE_ARGS" > .venv/.llama-cmake-args
  { mkdir -p "$(dirname "$CACHE_MARK")" && echo "$CMAKE_ARGS" > "$CACHE_MARK"; } 2>/dev/null || true
  echo "$WANT" > "$STAMP"
fi
echo "setup: ready ($ROOT/.venv)"
