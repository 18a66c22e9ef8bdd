"""The hash-chained audit trail: intact chains verify; edits, deletions and reorderings are named."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from medstation.access.roles import Actor, Role
from medstation.store.audit_chain import GENESIS_HASH, verify_chain
from medstation.store.database import Database

pytestmark = pytest.mark.both_engines


def _verify(db):
    raw = db.engine.raw_connection()
    try:
        return verify_chain(raw.driver_connection)
    finally:
        raw.close()


def _fill(db, n=5):
    for i in range(n):
        db.audit("note.view", actor=Actor("ana", Role.therapist), entity="note", entity_id=i, page=i)


def _sql(db, statement):
    """Tamper with the store below the audit API (on either engine)."""
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_events_are_chained_with_role(db):
    _fill(db, 3)
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, actor, role, prev_hash, event_hash FROM audit_event ORDER BY id")).fetchall()
    assert rows[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.event_hash for r in rows[:-1]]
    assert {(r.actor, r.role) for r in rows} == {("ana", "therapist")}
    report = _verify(db)
    assert report.intact and report.checked == 3


def test_empty_trail_is_intact(db):
    assert _verify(db).intact


def test_edited_event_is_named(db):
    _fill(db)
    _sql(db, "UPDATE audit_event SET actor = 'mallory' WHERE id = 3")
    report = _verify(db)
    assert (report.intact, report.bad_event_id) == (False, 3) and "edited" in report.reason


def test_edited_detail_is_named(db):
    _fill(db)
    _sql(db, """UPDATE audit_event SET detail = '{"page": 99}' WHERE id = 2""")
    assert _verify(db).bad_event_id == 2


def test_deleted_event_is_named(db):
    _fill(db)
    _sql(db, "DELETE FROM audit_event WHERE id = 3")
    report = _verify(db)
    assert (report.intact, report.bad_event_id) == (False, 4) and "deleted" in report.reason


def test_deleted_last_event_is_caught_by_the_head(db):
    _fill(db)
    _sql(db, "DELETE FROM audit_event WHERE id = 5")
    report = _verify(db)
    assert not report.intact and report.bad_event_id == 5 and "end" in report.reason


def test_reordered_events_are_named(db):
    _fill(db)
    # swap the contents of events 2 and 3 (ids stay, so the order the rows are read in changes)
    _sql(db, "UPDATE audit_event SET id = -2 WHERE id = 2")
    _sql(db, "UPDATE audit_event SET id = 2 WHERE id = 3")
    _sql(db, "UPDATE audit_event SET id = 3 WHERE id = -2")
    report = _verify(db)
    assert (report.intact, report.bad_event_id) == (False, 2)


def test_two_writers_do_not_fork_the_chain(settings, store_location):
    dbs = [Database(store_location, anchor_root=settings.home) for _ in range(2)]
    errors = []

    def writer(db, who):
        try:
            for i in range(25):
                db.audit("stress", actor=who, entity="n", entity_id=i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(db, f"w{i}")) for i, db in enumerate(dbs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = _verify(dbs[0])
    assert report.intact and report.checked == 50
    for db in dbs:
        db.close()


def test_events_from_before_the_chain_are_sealed_by_the_migration(settings):
    from alembic import command

    from medstation.store.database import alembic_config, make_engine

    engine = make_engine(settings.db_path)
    command.upgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_event (at, actor, action, entity, entity_id, detail) VALUES "
                          "('2026-11-01 10:00:00.000000', 'old', 'legacy', 'x', '1', '{\"a\": 1}')"))
    engine.dispose()
    db = Database(settings.db_path)
    db.audit("after", actor="new")
    report = _verify(db)
    assert report.intact and report.checked == 2
    db.close()


def test_actor_falls_back_to_the_signed_in_user(db):
    db.audit_actor_source = lambda: Actor("rita", Role.radiologist)
    db.audit("imaging.view", entity="series", entity_id="1.2.3")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT actor, role FROM audit_event")).one()
    assert tuple(row) == ("rita", "radiologist")


@pytest.mark.parametrize("value", [float("nan"), {"nested": [1, "two", None]}, "naïve ✓"])
def test_unusual_detail_values_still_verify(db, value):
    from pathlib import Path

    db.audit("odd", actor="x", value=value, path=Path("/tmp/x"))
    assert _verify(db).intact
