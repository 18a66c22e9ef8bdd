#!/usr/bin/env bash
# Regenerate the initial Alembic migration from the tables in medstation/store/tables/.
# Used only before the first release, while the schema is still one revision;
# after a release, add a new revision with `alembic revision --autogenerate`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python - <<'PY'
import tempfile, pathlib
from alembic import command
from medstation.store.database import alembic_config, make_engine, MIGRATIONS_DIR

versions = MIGRATIONS_DIR / "versions"
for old in versions.glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(pathlib.Path(tmp) / "empty.db")
    command.revision(alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
for new in versions.glob("0001_*.py"):
    print("wrote", new)
PY
