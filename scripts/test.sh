#!/usr/bin/env bash
# One command: set everything up, then run the whole test suite (domain, ui, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
# The store's tests also run on PostgreSQL: a throw-away cluster on a loopback port (tests/pg_support.py).
PG_DIR=$(mktemp -d /tmp/medstation-pg.XXXXXX)
# pytest's temporary folders (rebuilt models, exported graphs, stores: about 3 GB for a full run) go to a folder
# of this run, removed when it ends and before the installer proof, which needs the disk for its unpacked copy.
PYTEST_TMP=$(mktemp -d /tmp/medstation-pytest.XXXXXX)
trap 'bash scripts/pg_test_server.sh stop "$PG_DIR"; rm -rf "$PYTEST_TMP"' EXIT
MEDSTATION_TEST_PG_URL=$(bash scripts/pg_test_server.sh start "$PG_DIR")
export MEDSTATION_TEST_PG_URL MEDSTATION_TEST_PG=require
.venv/bin/python -m pytest --basetemp "$PYTEST_TMP/t" "$@"
rm -rf "$PYTEST_TMP"
# The installer proof (build the bundle, self-test it outside the tree: about 15 min) runs only on a full
# run when installer/ or the dependencies changed in the last landed commit (installer/changed.sh).
if [ "$#" -eq 0 ] && bash installer/changed.sh; then
  MEDSTATION_PYTHON="$PWD/.venv/bin/python" bash installer/prove.sh
fi
