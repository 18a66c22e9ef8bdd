#!/usr/bin/env bash
# One command: set everything up, then start MedStation on its embedded defaults.
# Without a display (a server, a container) the window opens on a virtual Xvfb screen.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/medstation "$@"
fi
exec .venv/bin/medstation "$@"
