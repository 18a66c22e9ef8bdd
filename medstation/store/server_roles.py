"""Clinic server: the schema owner migrates, the application role works, and cannot rewrite the audit trail.

Two PostgreSQL roles (docs/CLINIC.md):

- the **owner** (the admin's role) owns the tables and runs the migrations, once per upgrade, with
  ``medstation db migrate`` (workstations never migrate a server: they refuse to start on an older
  schema and say so);
- the **application role** every workstation connects as gets SELECT, INSERT, UPDATE and DELETE on the
  clinical tables but only **SELECT and INSERT on ``audit_event``**: no UPDATE, DELETE or TRUNCATE, so
  no workstation (nor anyone holding its password) can alter the trail's history. The chain is
  appended with one INSERT of the finished row (:mod:`medstation.store.audit_chain`).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from medstation.errors import UserFacingError

APPEND_ONLY_TABLES = ("audit_event",)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(app_role: str) -> list[str]:
    """SQL the owner runs (after every migration) so ``app_role`` can work but not rewrite the audit trail."""
    if not _ROLE_NAME.match(app_role):
        raise UserFacingError(f"{app_role!r} is not a plain PostgreSQL role name (lower case letters, digits, _).")
    role = f'"{app_role}"'
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",  # schema changes: owner only
    ]
    for table in APPEND_ONLY_TABLES:
        statements += [f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}",
                       f"GRANT SELECT, INSERT ON {table} TO {role}"]
    return statements


def apply_grants(engine: Engine, app_role: str) -> None:
    """Run :func:`grant_statements` as the connected (owner) role, in one transaction."""
    with engine.begin() as conn:
        for statement in grant_statements(app_role):
            conn.execute(text(statement))


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 (no alembic_version table: a new, empty database)
            return None


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # lazy: alembic's script loader is needed only on a server

    return ScriptDirectory(str(Path(__file__).resolve().parent / "migrations")).get_current_head()


def require_head(engine: Engine) -> None:
    """A workstation never migrates the clinic server; an older (or newer) schema is a plain error."""
    current, head = schema_revision(engine), head_revision()
    if current != head:
        raise UserFacingError(
            f"The clinic database's schema is at revision {current or '(none)'}, this MedStation needs {head}. "
            "The clinic admin upgrades it once with `medstation db migrate` (docs/CLINIC.md); workstations "
            "never migrate the server themselves.")
