#!/usr/bin/env bash
# Put MedStation in the desktop menu for this user, pointing at the folder this script is in.
# Run it again after moving the folder; remove ~/.local/share/applications/medstation.desktop to undo.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$TARGET"
sed "s|@BUNDLE@|$HERE|g" "$HERE/medstation.desktop.in" > "$TARGET/medstation.desktop"
echo "menu entry: $TARGET/medstation.desktop -> $HERE/medstation"
