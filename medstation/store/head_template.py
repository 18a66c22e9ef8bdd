"""A new local store started from an empty, already-migrated copy of the schema (cold start, issue 22).

Creating a store runs every Alembic migration (about 130 DDL statements, SQLite table rebuilds included)
and imports Alembic: 0.4-0.7 s of the first launch after an install. The bundle's build runs the
migrations once (:func:`write_template`) and ships the result; :func:`start_from_template` copies it into
place for a new plaintext store, so the first launch opens a store already at the head. The copy is the
migrated schema itself (not a ``create_all``, which differs from the migrations in server defaults and
column order), and it is used only when it is exactly at the head of the migration files and holds no
rows; otherwise the store is created by the migrations as always.

Paths are plain :class:`~pathlib.Path` values: where the template lives is the caller's business
(``resources/store/`` in the bundle, see ``medstation.access.encryption.open_database``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import create_engine

TEMPLATE_NAME = "head.sqlite"


def write_template(path: Path) -> str:
    """Run every migration into a new file at ``path`` (replaced if present); returns its revision."""
    from medstation.store.database import upgrade_to_head
    from medstation.store.server_roles import schema_revision

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        upgrade_to_head(engine)
        revision = schema_revision(engine)
    finally:
        engine.dispose()
    with closing(sqlite3.connect(path)) as conn:  # one self-contained file: no WAL beside it, no free pages
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    return revision


def template_revision(template: Path) -> str | None:
    """The template's Alembic revision, or None when it is missing, unreadable or holds any row."""
    if not Path(template).is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{template}?mode=ro", uri=True)) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
            if any(conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in names):
                return None  # never copy data into a new store
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None
    return rows[0][0] if len(rows) == 1 else None


def start_from_template(db_path: Path, template: Path, head: str | None) -> bool:
    """Copy ``template`` to ``db_path`` when ``db_path`` does not exist yet and the template is an empty store
    at revision ``head`` (the migration files' head); True when copied. The copy lands under a temporary
    name and is renamed, so a crash never leaves half a store behind."""
    db_path = Path(db_path)
    if head is None or db_path.exists() or template_revision(template) != head:
        return False
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".from-template")
    shutil.copyfile(template, partial)
    try:
        os.link(partial, db_path)  # unlike a rename, never replaces a store another process just created
    except OSError:  # the store appeared meanwhile, or a file system without hard links: the migrations make it
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True
