#!/usr/bin/env bash
# Prove the bundle works on a machine that never saw the source tree:
#   1. build it (installer/build.sh; SKIP_BUILD=1 reuses dist/),
#   2. unpack the .tar.gz into a temporary folder outside the source tree,
#   3. run `medstation --self-test` there with PATH=/usr/bin:/bin, no virtual environment, no PYTHONPATH,
#      and HOME and MEDSTATION_HOME empty folders (env -i: nothing else inherited),
#   4. with SCREENSHOT=1: open the window under Xvfb (xcb plugin) and save docs/screenshots/frozen_app.png.
# Results go to dist/proof/ (selftest.json, the size report, timings). Exit 0 only when the self-test passed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROOF="$ROOT/dist/proof"
log() { echo "[prove $(date +%H:%M:%S)] $*" >&2; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  BUILD_START=$(date +%s)
  bash installer/build.sh
  echo "$(( $(date +%s) - BUILD_START ))" > "$ROOT/dist/build_seconds.txt"
fi
ARCHIVE="$(ls -t "$ROOT"/dist/medstation-*.tar.gz | head -1)"
# Disk: the unpacked copy needs the archive's uncompressed size (about 0.6 GB) on the temporary disk. CI machines
# can be short of space (a CI run once stopped here with "No space left on device"), so PyInstaller's work folder
# (a cache for rebuilds, about 1 GB) and then the unpacked dist/medstation (the archive holds the same files) make
# room first. Without enough room even then, the proof says so and fails: nothing is skipped quietly.
TMP_ROOT="${TMPDIR:-/tmp}"
free_mb() { df -Pm "$TMP_ROOT" | awk 'NR==2 {print $4}'; }
NEED_MB=$(( $(gzip -l "$ARCHIVE" | awk 'NR==2 {print $2}') / 1048576 + 300 ))
for extra in "$ROOT/build/pyinstaller" "$ROOT/dist/medstation"; do
  [ "$(free_mb)" -ge "$NEED_MB" ] && break
  [ -e "$extra" ] && { log "only $(free_mb) MB free in $TMP_ROOT, $NEED_MB MB needed: removing $extra"; rm -rf "$extra"; }
done
if [ "$(free_mb)" -lt "$NEED_MB" ]; then
  log "installer proof cannot run: $(free_mb) MB free in $TMP_ROOT, the unpacked bundle needs $NEED_MB MB"
  exit 3
fi
WORK="$(mktemp -d "$TMP_ROOT/medstation-proof-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$PROOF" "$WORK/home" "$WORK/data"
log "unpacking $ARCHIVE into $WORK"
tar -xzf "$ARCHIVE" -C "$WORK"
APP="$WORK/medstation/medstation"
clean() { (cd "$WORK" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" MEDSTATION_HOME="$WORK/data" LANG=C.UTF-8 "$@"); }

clean "$APP" --version
log "self-test (from $WORK, PATH=/usr/bin:/bin, empty HOME and MEDSTATION_HOME)"
set +e
clean "$APP" --self-test --out "$WORK/selftest.json" > "$PROOF/selftest.stdout" 2> "$PROOF/selftest.stderr"
STATUS=$?
set -e
cp "$WORK/selftest.json" "$PROOF/selftest.json" 2>/dev/null || true
cat "$PROOF/selftest.json" 2>/dev/null || tail -30 "$PROOF/selftest.stderr"
log "self-test exit status $STATUS"
[ -z "$(ls -A "$WORK/data")" ] && log "MEDSTATION_HOME left empty (the self-test used its own temporary folder)"

if [ "${SCREENSHOT:-0}" = 1 ] && command -v xvfb-run >/dev/null; then
  log "screenshot of the frozen app under Xvfb"
  SHOT="$ROOT/docs/screenshots/frozen_app.png"
  clean /usr/bin/xvfb-run -a -s "-screen 0 1600x1000x24" "$APP" gui --screenshot "$WORK/frozen_app.png" \
    --screenshot-delay "${SCREENSHOT_DELAY:-12}" > "$PROOF/screenshot.log" 2>&1 || true
  if [ -f "$WORK/frozen_app.png" ]; then cp "$WORK/frozen_app.png" "$SHOT"; log "saved $SHOT"; else
    log "no screenshot"; tail -20 "$PROOF/screenshot.log"; fi
fi
cp "$ROOT/dist/size_report.json" "$PROOF/size_report.json" 2>/dev/null || true
exit "$STATUS"
