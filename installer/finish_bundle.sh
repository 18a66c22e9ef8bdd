#!/usr/bin/env bash
# The steps after PyInstaller (called by installer/build.sh; also runs alone on a built dist/medstation):
# the staged ONNX graphs refreshed, debug symbols stripped, Qt translations dropped, icon and desktop entry,
# no torch in the inference bundle, the size check, and the .tar.gz archive.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${MEDSTATION_PYTHON:-$ROOT/.venv/bin/python}"
STAGING="${MEDSTATION_STAGING:-$ROOT/build/staging}"
NICE="nice -n ${MEDSTATION_BUILD_NICE:-5}"
log() { echo "[build $(date +%H:%M:%S)] $*" >&2; }
START=$(date +%s)
BUNDLE="$ROOT/dist/medstation"
rm -rf "$BUNDLE/_internal/resources/models"  # the graphs as they are now in staging (checked by their exporters)
cp -r "$STAGING/models" "$BUNDLE/_internal/resources/models"
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null && command -v file >/dev/null; then
  log "strip debug symbols (about 100 MB) from shared libraries that still carry them; the auditwheel-patched
  *.libs folders are left alone (stripping can break patched libraries)"
  find "$BUNDLE/_internal" -name "*.so*" -type f -not -path "*.libs/*" -print0 |
    while IFS= read -r -d '' lib; do
      if file -b "$lib" | grep -q "not stripped"; then strip --strip-unneeded "$lib" 2>/dev/null || true; fi
    done
fi
rm -rf "$BUNDLE/_internal/PySide6/Qt/translations"  # Qt's own dialog translations; the app is in English
# Platform plugins for kiosks and embedded boards (the PySide6 hook takes every one); a workstation uses xcb,
# wayland or offscreen (named in the spec).
QT="$BUNDLE/_internal/PySide6/Qt"
rm -f "$QT"/plugins/platforms/*q{eglfs,linuxfb,minimalegl,vkkhrdisplay,vnc}.* "$QT"/lib/libQt6EglF*
rm -rf "$QT/plugins/egldeviceintegrations"
# The TUIO touch plugin (touch events over the network) is the only thing that loads QtNetwork; without it
# libQt6Network goes too, unless something else in the bundle names it.
rm -rf "$QT/plugins/generic"
NETWORK_USERS="$(grep -rlsF --include="*.so*" libQt6Network.so "$BUNDLE/_internal" | grep -v "/libQt6Network.so" || true)"
if [ -z "$NETWORK_USERS" ]; then rm -f "$QT"/lib/libQt6Network.so*; else log "libQt6Network kept for: $NETWORK_USERS"; fi
# Image formats: the app reads PNG (built into QtGui), JPEG, ICO and SVG; the hook takes every plugin (1.7 MB).
rm -f "$QT"/plugins/imageformats/*q{gif,icns,tga,tiff,wbmp,webp}.so
# The GTK 3 theme plugin links the desktop's GTK 3, which the bundle does not carry (so it never loads here, and
# on a GTK desktop it would mix the system's GTK with the build machine's cairo and pango); Qt uses its own style
# and the XDG portal theme without it. Its cairo, pango, harfbuzz, GIO... go below with the other leftovers.
rm -f "$QT"/plugins/platformthemes/*qgtk3*
# What no code path reads: pydicom's test images (3.0 MB), scikit-learn's and chromadb's tests, type stubs and
# C/Cython sources.
rm -rf "$BUNDLE/_internal/pydicom/data/test_files" "$BUNDLE/_internal/sklearn/datasets/tests" \
  "$BUNDLE/_internal/chromadb/test"
find "$BUNDLE/_internal" -type f \( -name "*.pyi" -o -name "*.pyx" -o -name "*.pxd" -o -name "*.h" -o -name "*.hpp" \) \
  -delete
# Then the system libraries nothing left in the bundle links to (QtNetwork's Kerberos, the GTK theme's cairo...).
[ "$(uname -s)" = Linux ] && command -v readelf >/dev/null && "$PY" installer/prune_libs.py "$BUNDLE" >&2
# Wheels' vendored libraries that PyInstaller copied twice (numpy.libs' libgfortran and libquadmath also land
# in scipy.libs): the second copy becomes a link to the first (same bytes, same name; the tar keeps links).
# Stripping these patched libraries is not safe (checked: a stripped OpenBLAS fails to load, "ELF load command
# address/offset not page-aligned"), so they stay as they are.
for dup in "$BUNDLE"/_internal/*.libs/*; do
  for first in "$BUNDLE"/_internal/*.libs/"$(basename "$dup")"; do
    if [ "$first" != "$dup" ] && [ -f "$first" ] && [ ! -L "$first" ] && [ ! -L "$dup" ] && cmp -s "$first" "$dup"; then
      ln -sf "../$(basename "$(dirname "$first")")/$(basename "$first")" "$dup"; fi
    break
  done
done
# llama.cpp's libraries arrive twice, libX.so and libX.so.0 with the same bytes (the wheel's links, copied as
# files): the name llama_cpp opens (libX.so) becomes a link to the file the others name in DT_NEEDED (6.3 MB).
for lib in "$BUNDLE"/_internal/llama_cpp/lib/lib*.so; do
  if [ -f "$lib.0" ] && [ ! -L "$lib" ] && [ ! -L "$lib.0" ] && cmp -s "$lib" "$lib.0"; then
    ln -sf "$(basename "$lib").0" "$lib"; fi
done
# highdicom's standard tables (22 MB of indented JSON) read with json.loads: the same data without the indent.
for table in "$BUNDLE"/_internal/highdicom/_standard/*.json; do
  [ -f "$table" ] && "$PY" -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); json.dump(d, open(p, "w"), separators=(",", ":"))' "$table"
done
cp installer/medstation.png "$BUNDLE/medstation.png"
sed "s|@BUNDLE@|$BUNDLE|g" installer/medstation.desktop.in > "$BUNDLE/medstation.desktop"
cp installer/medstation.desktop.in "$BUNDLE/medstation.desktop.in"
cp installer/install-desktop-entry.sh "$BUNDLE/install-desktop-entry.sh"
chmod +x "$BUNDLE/install-desktop-entry.sh"
if find "$BUNDLE" -iname "libtorch*" -o -iname "torch" -type d | grep -q . && [ "${MEDSTATION_WITH_TRAINING:-0}" = 0 ]; then
  log "torch found in the inference bundle"; exit 1
fi

log "size"
"$PY" installer/size_report.py "$BUNDLE" > "$ROOT/dist/size_report.json" || { cat "$ROOT/dist/size_report.json"; exit 1; }

VERSION="$("$PY" -c 'import medstation; print(medstation.__version__)')"
ARCHIVE="$ROOT/dist/medstation-$VERSION-linux-$(uname -m).tar.gz"
log "archive $ARCHIVE"
$NICE tar -C "$ROOT/dist" -czf "$ARCHIVE" medstation
log "done in $(( $(date +%s) - START )) s: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), $(du -h "$ARCHIVE" | cut -f1) archive"
