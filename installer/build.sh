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
$NICE "$PY" scripts/export_minilm_onnx.py --out "$STAGING/models/minilm/model.onnx" --count 1000 --fp16-weights \
  > "$STAGING/minilm_export.json"
"$PY" -c "from medstation.rag.embedder import model_dir, weights_sha256; print(weights_sha256(model_dir()))" \
  > "$STAGING/minilm_weights/weights.sha256"

if ! grep -qs float16 "$STAGING"/models/segmentation/onnx/*/engine.json; then
  log "LiteMedSAM -> ONNX (and agreement with torch on the sample CT)"
  $NICE "$PY" installer/export_segmentation.py --out "$STAGING/models/segmentation" --fp16-weights \
    > "$STAGING/segmentation_export.json"
fi

log "PyInstaller"
rm -rf "$ROOT/dist/medstation"
PYTHONPATH="$ROOT" $NICE "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" installer/medstation.spec

BUNDLE="$ROOT/dist/medstation"
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null && command -v file >/dev/null; then
  log "strip debug symbols (about 100 MB) from shared libraries that still carry them; the auditwheel-patched
  *.libs folders are left alone (stripping can break patched libraries)"
  find "$BUNDLE/_internal" -name "*.so*" -type f -not -path "*.libs/*" -print0 |
    while IFS= read -r -d '' lib; do
      if file -b "$lib" | grep -q "not stripped"; then strip --strip-unneeded "$lib" 2>/dev/null || true; fi
    done
fi
rm -rf "$BUNDLE/_internal/PySide6/Qt/translations"  # Qt's own dialog translations; the app is in English
cp installer/medstation.png "$BUNDLE/medstation.png"
sed "s|@BUNDLE@|$BUNDLE|g" installer/medstation.desktop.in > "$BUNDLE/medstation.desktop"
cp installer/medstation.desktop.in "$BUNDLE/medstation.desktop.in"
cp installer/install-desktop-entry.sh "$BUNDLE/install-desktop-entry.sh"
chmod +x "$BUNDLE/install-desktop-entry.sh"
if find "$BUNDLE" -iname "libtorch*" -o -iname "torch" -type d | grep -q . && [ "$MEDSTATION_WITH_TRAINING" = 0 ]; then
  log "torch found in the inference bundle"; exit 1
fi

log "size"
"$PY" installer/size_report.py "$BUNDLE" > "$ROOT/dist/size_report.json" || { cat "$ROOT/dist/size_report.json"; exit 1; }

VERSION="$("$PY" -c 'import medstation; print(medstation.__version__)')"
ARCHIVE="$ROOT/dist/medstation-$VERSION-linux-$(uname -m).tar.gz"
log "archive $ARCHIVE"
$NICE tar -C "$ROOT/dist" -czf "$ARCHIVE" medstation
log "done in $(( $(date +%s) - START )) s: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), $(du -h "$ARCHIVE" | cut -f1) archive"
