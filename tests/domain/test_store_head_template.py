"""A new plaintext store starts from the bundle's migrated empty schema (cold start, issue 22), only when
that template is exactly at the migrations' head and empty; otherwise the migrations create the store."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from medstation.store.database import Database, head_from_files
from medstation.store.head_template import start_from_template, template_revision, write_template


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "store" / "head.sqlite"
    assert write_template(path) == head_from_files()
    return path


def _schema(path):
    with closing(sqlite3.connect(path)) as conn:
        objects = set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return objects, revision


def test_store_from_template_has_exactly_the_migrated_schema(template, tmp_path):
    migrated = Database(tmp_path / "migrated.db")
    migrated.close()
    assert start_from_template(tmp_path / "new.db", template, head_from_files())
    copied = Database(tmp_path / "new.db")
    copied.audit("opened", actor="test", entity="db")  # a working store: the audit chain writes
    copied.close()
    assert _schema(tmp_path / "new.db") == _schema(tmp_path / "migrated.db")


def test_template_not_at_head_or_holding_rows_is_not_used(template, tmp_path):
    assert not start_from_template(tmp_path / "a.db", template, "some-other-revision")
    assert not (tmp_path / "a.db").exists()
    dirty = tmp_path / "dirty.sqlite"
    dirty.write_bytes(template.read_bytes())
    with closing(sqlite3.connect(dirty)) as conn:
        conn.execute("CREATE TABLE leftover (x)")
        conn.execute("INSERT INTO leftover VALUES (1)")  # any row at all: a template never carries data
        conn.commit()
    assert template_revision(dirty) is None
    assert not start_from_template(tmp_path / "b.db", dirty, head_from_files())
    assert template_revision(tmp_path / "missing.sqlite") is None


def test_an_existing_store_is_never_replaced(template, tmp_path):
    db = Database(tmp_path / "kept.db")
    db.audit("kept", actor="test", entity="db")
    db.close()
    before = (tmp_path / "kept.db").read_bytes()
    assert not start_from_template(tmp_path / "kept.db", template, head_from_files())
    assert (tmp_path / "kept.db").read_bytes() == before


def test_open_database_starts_a_new_plaintext_store_from_the_shipped_template(template, tmp_path, monkeypatch):
    from medstation.access.encryption import open_database

    shipped = tmp_path / "resources" / "store" / "head.sqlite"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(template.read_bytes())
    with closing(sqlite3.connect(shipped)) as conn:
        conn.execute("PRAGMA user_version = 4242")  # marks this copy: found again only if it was used
        conn.commit()
    monkeypatch.setattr("medstation.config.resources_dir", lambda: tmp_path / "resources")
    db = open_database(tmp_path / "home" / "medstation.db")
    db.audit("opened", actor="test", entity="db")
    db.close()
    with closing(sqlite3.connect(tmp_path / "home" / "medstation.db")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4242
    monkeypatch.setattr("medstation.config.resources_dir", lambda: tmp_path / "nothing-here")
    db = open_database(tmp_path / "home2" / "medstation.db")  # no template shipped: the migrations make it
    db.close()
    with closing(sqlite3.connect(tmp_path / "home2" / "medstation.db")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert _schema(tmp_path / "home2" / "medstation.db") == _schema(tmp_path / "home" / "medstation.db")


def test_a_file_system_without_hard_links_falls_back_to_the_migrations(template, tmp_path, monkeypatch):
    def no_links(_src, _dst):
        raise OSError("hard links not supported")

    monkeypatch.setattr("medstation.store.head_template.os.link", no_links)
    assert not start_from_template(tmp_path / "new.db", template, head_from_files())
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no half-copied file left behind
    Database(tmp_path / "new.db").close()  # the migrations create it as before
    assert _schema(tmp_path / "new.db")[1] == [(head_from_files(),)]
