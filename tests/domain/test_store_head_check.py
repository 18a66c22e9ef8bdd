"""Cold start (issue 22): a store already at the schema head opens without loading Alembic; any other runs it.

``test_a_store_at_head_opens_without_alembic`` fails on ad2cb94 (every open ran ``alembic upgrade head``).
"""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from medstation.store import database
from medstation.store.database import MIGRATIONS_DIR, Database, head_from_files


def test_the_head_read_from_the_files_is_alembics_head():
    assert head_from_files() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _recording_upgrades(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: calls.append(rev) or real(cfg, rev))
    return calls


def test_a_store_at_head_opens_without_alembic(tmp_path, monkeypatch):
    calls = _recording_upgrades(monkeypatch)
    Database(tmp_path / "m.db").close()  # new: migrated by Alembic
    assert calls == ["head"]
    Database(tmp_path / "m.db").close()  # at head: one query, no Alembic
    assert calls == ["head"]


def test_a_store_behind_the_head_is_still_migrated(tmp_path, monkeypatch):
    db = Database(tmp_path / "m.db")
    with db.engine.begin() as conn:  # what an older install left: its revision (the upgrade itself is Alembic's)
        conn.execute(text("UPDATE alembic_version SET version_num = 'not-the-head'"))
    db.close()
    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: calls.append(rev))
    Database(tmp_path / "m.db").close()
    assert calls == ["head"]


def test_files_that_are_not_one_chain_leave_it_to_alembic(tmp_path, monkeypatch):
    versions = tmp_path / "versions"
    versions.mkdir()
    for rev in ("a1", "b1"):  # two heads (a branch): the file check gives up
        (versions / f"{rev}.py").write_text(f"revision = '{rev}'\ndown_revision = None\n")
    monkeypatch.setattr(database, "MIGRATIONS_DIR", tmp_path)
    assert head_from_files() is None
