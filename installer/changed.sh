#!/usr/bin/env bash
# Exit 0 when the installer proof should run: MEDSTATION_PROVE_INSTALLER=1, or the last landed commit
# (HEAD against its first parent) changed installer/ or the dependencies (pyproject.toml, scripts/setup.sh)
# or what the bundle loads differently from a source install.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "${MEDSTATION_PROVE_INSTALLER:-}" = 1 ] && exit 0
[ "${MEDSTATION_PROVE_INSTALLER:-}" = 0 ] && exit 1
git rev-parse --verify -q HEAD^ >/dev/null 2>&1 || exit 1
CHANGED="$(git diff --name-only HEAD^ HEAD -- installer pyproject.toml scripts/setup.sh \
  medstation/rag/embedder.py medstation/rag/embedder_onnx.py medstation/segmentation/shipped.py \
  medstation/ui/selftest.py medstation/store/head_template.py 2>/dev/null)"
[ -n "$CHANGED" ] && { echo "installer proof: changed since HEAD^: $(echo $CHANGED)" >&2; exit 0; }
exit 1
