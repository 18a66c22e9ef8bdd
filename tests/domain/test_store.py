from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from medstation.store.database import Database, alembic_config

pytestmark = pytest.mark.both_engines
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus, ModelVersion


def test_database_is_wal_with_full_sync(db):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PRAGMAs are SQLite's; a PostgreSQL server's durability is its own configuration")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar().lower() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_create_every_table(db):
    names = set(inspect(db.engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= names
    assert "alembic_version" in names


def test_migrations_match_models(db):
    """Autogenerate finds nothing to do: the migration scripts and the table modules agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_reopen_existing_database_keeps_rows(settings):
    first = Database(settings.db_path)
    first.audit("opened", actor="test", entity="db")
    first.close()
    second = Database(settings.db_path)
    with second.session() as s:
        assert [e.action for e in s.exec(select(AuditEvent))] == ["opened"]
    second.close()


def test_only_one_active_model_version_per_kind(db):
    with db.session() as s:
        s.add(ModelVersion(kind=ModelKind.llm, name="a", path="a", sha256="1", status=ModelStatus.active))
    with pytest.raises(IntegrityError):
        with db.session() as s:
            s.add(ModelVersion(kind=ModelKind.llm, name="b", path="b", sha256="2", status=ModelStatus.active))
    with db.session() as s:  # another kind may have its own active version
        s.add(ModelVersion(kind=ModelKind.segmentation, name="c", path="c", sha256="3", status=ModelStatus.active))


def test_session_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        with db.session() as s:
            s.add(AuditEvent(action="half-done"))
            s.flush()
            raise RuntimeError("boom")
    with db.session() as s:
        assert s.exec(select(AuditEvent)).all() == []


def test_alembic_config_points_at_packaged_migrations(db):
    cfg = alembic_config(db.engine)
    assert cfg.get_main_option("script_location").endswith("migrations")
