#!/usr/bin/env bash
# Build the MedStation inference bundle (no torch):
#   dist/medstation/                 one folder; run dist/medstation/medstation
#   dist/medstation-VERSION-linux-x86_64.tar.gz
#   dist/medstation/medstation.desktop, medstation.png and install-desktop-entry.sh (the menu entry)
# Usage: bash installer/build.sh [--with-training] [--fresh]
#   --with-training  keep torch, transformers and peft in the bundle (training runs in it; far larger)
#   --fresh          export the ONNX graphs again (otherwise build/staging is reused while it verifies)
# MEDSTATION_PYTHON picks the interpreter (default .venv/bin/python, as scripts/setup.sh makes it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${MEDSTATION_PYTHON:-$ROOT/.venv/bin/python}"
STAGING="$ROOT/build/staging"
export MEDSTATION_STAGING="$STAGING"
export MEDSTATION_WITH_TRAINING=0
FRESH=0
for arg in "$@"; do
  case "$arg" in
    --with-training) MEDSTATION_WITH_TRAINING=1 ;;
    --fresh) FRESH=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
NICE="nice -n ${MEDSTATION_BUILD_NICE:-5}"  # a build on a shared 2-core machine must not starve the rest
log() { echo "[build $(date +%H:%M:%S)] $*" >&2; }
START=$(date +%s)

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  log "installing PyInstaller (the [installer] extra)"
  "$PY" -m pip install --quiet "pyinstaller==6.22.3"
fi
[ "$FRESH" = 1 ] && rm -rf "$STAGING"
mkdir -p "$STAGING/models/minilm" "$STAGING/minilm_weights"

log "MiniLM -> ONNX (and agreement with sentence-transformers on 1,000 starter passages)"
$NICE "$PY" scripts/export_minilm_onnx.py --out "$STAGING/models/minilm/model.onnx" --count 1000 --fp16-weights --fuse \
  > "$STAGING/minilm_export.json"
"$PY" -c "from medstation.rag.embedder import model_dir, weights_sha256; print(weights_sha256(model_dir()))" \
  > "$STAGING/minilm_weights/weights.sha256"

if ! grep -qs float16 "$STAGING"/models/segmentation/onnx/*/engine.json; then
  log "LiteMedSAM -> ONNX (and agreement with torch on the sample CT)"
  $NICE "$PY" installer/export_segmentation.py --out "$STAGING/models/segmentation" --fp16-weights \
    > "$STAGING/segmentation_export.json"
fi

log "the store's migrated empty schema (a new store starts from it: no Alembic on the first launch)"
"$PY" -c "import sys; from medstation.store.head_template import write_template; print(write_template(sys.argv[1]))" \
  "$STAGING/store/head.sqlite" > /dev/null

log "PyInstaller"
rm -rf "$ROOT/dist/medstation"
PYTHONPATH="$ROOT" $NICE "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" installer/medstation.spec

bash installer/finish_bundle.sh
