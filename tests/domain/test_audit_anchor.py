"""The audit trail's anchor outside the database, and audit events written in the write's own transaction.

Attacks from issue 19: truncate the tail and rewrite the head row to the predecessor's hash;
wipe the whole trail. Each is invisible to the in-file chain alone (shown first) and caught
by the anchor. A crash between a clinical write and its audit event leaves neither.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from medstation.access.roles import Actor, Role
from medstation.store.audit_anchor import AuditAnchor
from medstation.store.audit_chain import verify_chain
from medstation.store.database import Database

ROOT = Path(__file__).resolve().parents[2]


def _verify(db, anchor=True):
    raw = db.engine.raw_connection()
    try:
        return verify_chain(raw.driver_connection, anchor=db.anchor if anchor else None)
    finally:
        raw.close()


def _fill(db, n=5):
    for i in range(n):
        db.audit("note.view", actor=Actor("ana", Role.therapist), entity="note", entity_id=i)


def _sql(path, script):
    con = sqlite3.connect(path)
    con.executescript(script)
    con.commit()
    con.close()


def _truncate_and_rewrite_head(path, keep: int) -> None:
    """The attack: delete the newest events and make the head row name the last one kept."""
    con = sqlite3.connect(path)
    last_hash, = con.execute("SELECT event_hash FROM audit_event WHERE id = ?", (keep,)).fetchone()
    con.execute("DELETE FROM audit_event WHERE id > ?", (keep,))
    con.execute("UPDATE audit_chain_head SET last_event_id = ?, last_hash = ?, event_count = ? WHERE id = 1",
                (keep, last_hash, keep))
    con.commit()
    con.close()


def test_anchor_files_are_private_and_one_line_per_event(db):
    _fill(db, 3)
    anchor = db.anchor
    assert stat.S_IMODE(anchor.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchor.checkpoint_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchor.dir.stat().st_mode) == 0o700
    lines, torn = anchor.checkpoints()
    assert [c.seq for c in lines] == [1, 2, 3] and torn == []
    report = _verify(db)
    assert report.intact and report.anchored == 3 and "3 anchored outside" in report.summary()


def test_truncated_tail_with_rewritten_head_is_caught(db):
    _fill(db, 5)
    _truncate_and_rewrite_head(db.path, keep=3)
    assert _verify(db, anchor=False).intact  # the in-file chain alone cannot see it
    report = _verify(db)
    assert not report.intact and report.bad_event_id == 4 and "ends at event 3" in report.reason


def test_wiped_trail_is_caught(db):
    _fill(db, 4)
    _sql(db.path, "DELETE FROM audit_event; DELETE FROM audit_chain_head;")
    assert _verify(db, anchor=False).intact
    report = _verify(db)
    assert not report.intact and "wiped" in report.reason


def test_event_inserted_by_editing_the_file_is_caught(db):
    """Someone appends a well-chained event with sqlite3 (the chain hash needs no key): no checkpoint signs it."""
    from medstation.store.audit_chain import GENESIS_HASH, canonical_json, event_hash  # noqa: F401

    _fill(db, 2)
    con = sqlite3.connect(db.path)
    prev, = con.execute("SELECT event_hash FROM audit_event WHERE id = 2").fetchone()
    fields = dict(id=3, at="2026-12-01 10:00:00.000000", actor="mallory", role="admin", action="notes.sign",
                  entity="session_note", entity_id="7", detail={}, prev_hash=prev)
    digest = event_hash(fields)
    con.execute("INSERT INTO audit_event (id, at, actor, role, action, entity, entity_id, detail, prev_hash, "
                "event_hash) VALUES (3, ?, 'mallory', 'admin', 'notes.sign', 'session_note', '7', '{}', ?, ?)",
                (fields["at"], prev, digest))
    con.execute("UPDATE audit_chain_head SET last_event_id = 3, last_hash = ?, event_count = 3", (digest,))
    con.commit()
    con.close()
    assert _verify(db, anchor=False).intact
    report = _verify(db)
    assert not report.intact and report.bad_event_id == 3 and "no checkpoint line" in report.reason


def test_edited_checkpoint_line_is_caught(db):
    _fill(db, 3)
    path = db.anchor.checkpoint_path
    lines = path.read_text().splitlines()
    forged = json.loads(lines[1])
    forged["hash"] = "f" * 64
    lines[1] = json.dumps(forged)
    path.write_text("\n".join(lines) + "\n")
    report = _verify(db)
    assert not report.intact and "not signed" in report.reason


def test_deleted_key_is_caught_not_replaced(settings, db):
    _fill(db, 2)
    db.anchor.key_path.unlink()
    again = Database(settings.db_path)  # opening must not start a new anchor over the old checkpoints
    try:
        assert not again.anchor.key_path.exists()
        report = _verify(again)
        assert not report.intact and "key" in report.reason
    finally:
        again.close()


def test_trail_from_before_the_anchor_is_adopted(settings):
    db = Database(settings.db_path)
    _fill(db, 3)
    db.close()
    anchor = AuditAnchor(settings.db_path)
    anchor.key_path.unlink()
    anchor.checkpoint_path.unlink()  # as a store written by 1c99c71 has neither file
    db = Database(settings.db_path)
    try:
        lines, _ = db.anchor.checkpoints()
        assert [(c.seq, c.kind) for c in lines] == [(3, "adopt")]
        _fill(db, 1)
        assert _verify(db).intact
        _truncate_and_rewrite_head(db.path, keep=3)
        assert not _verify(db).intact
    finally:
        db.close()


def test_rolled_back_audit_in_a_session_voids_its_line(db):
    from medstation.store.tables import Conversation

    with pytest.raises(RuntimeError):
        with db.session() as s:
            s.add(Conversation(title="x"))
            db.audit("chat.create", actor="ana", entity="conversation", session=s)
            raise RuntimeError("the write fails after its audit event")
    _fill(db, 1)  # reuses the rolled-back event's id
    lines, _ = db.anchor.checkpoints()
    assert [c.kind for c in lines] == ["event", "void", "event"]
    assert _verify(db).intact


def test_concurrent_writers_in_sessions_keep_one_chain_and_anchor(settings):
    from medstation.store.tables import Conversation

    dbs = [Database(settings.db_path) for _ in range(3)]
    errors = []

    def writer(db, who):
        try:
            for i in range(15):
                with db.write_session() as s:
                    s.add(Conversation(title=f"{who}-{i}"))
                    db.audit("chat.create", actor=who, entity="conversation", entity_id=i, session=s)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(db, f"w{i}")) for i, db in enumerate(dbs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = _verify(dbs[0])
    assert report.intact and report.checked == 45 and report.anchored == 45
    for db in dbs:
        db.close()


# --- the command line: `audit verify` (fails on 1c99c71, which printed "intact" for both attacks) ---------


def test_audit_verify_command_fails_on_truncation_with_head_rewrite(settings, capsys):
    from medstation.cli import main

    db = Database(settings.db_path)
    _fill(db, 5)
    db.close()
    _truncate_and_rewrite_head(settings.db_path, keep=3)
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at event 4" in capsys.readouterr().out


def test_audit_verify_command_fails_on_a_wiped_trail(settings, capsys):
    from medstation.cli import main

    db = Database(settings.db_path)
    _fill(db, 5)
    db.close()
    _sql(settings.db_path, "DELETE FROM audit_event; DELETE FROM audit_chain_head;")
    assert main(["audit", "verify"]) == 1
    assert "wiped" in capsys.readouterr().out


# --- a crash between the clinical write and its audit event (fails on 1c99c71: the write committed alone) -----


def test_failed_audit_rolls_back_the_clinical_write(db, settings, monkeypatch):
    from medstation.imaging.annotations import Annotation, AnnotationKind, load_annotations, save_annotation

    def audit_fails(self, action, **kwargs):
        raise OSError("disk full while writing the audit event")

    monkeypatch.setattr(Database, "audit", audit_fails)
    note = Annotation("1.2.3", "axial", 0, AnnotationKind.ruler, ((0.0, 0.0), (3.0, 4.0)), "5.0 mm")
    with pytest.raises(OSError):
        save_annotation(db, note, actor="rita")
    monkeypatch.undo()
    assert load_annotations(db, "1.2.3") == []


def test_failed_audit_rolls_back_an_account_change(db, monkeypatch):
    from argon2 import PasswordHasher

    from medstation.access.users import AccountStore

    store = AccountStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(Database, "audit", lambda self, action, **kw: (_ for _ in ()).throw(OSError("no audit")))
    with pytest.raises(OSError):
        store.add_user("alice", Role.admin, "Admin kettle 42!")
    monkeypatch.undo()
    assert not store.has_accounts()


def test_process_killed_between_write_and_audit_leaves_neither(settings):
    """A child process dies (os._exit, no cleanup) at the moment its audit event is written."""
    Database(settings.db_path).close()
    code = textwrap.dedent(f"""
        import os
        from medstation.store.database import Database
        from medstation.segmentation.records import SegmentRecord, save_decision
        import numpy as np
        db = Database({str(settings.db_path)!r})
        Database.audit = lambda self, action, **kw: os._exit(9)  # the crash: after the row, before the event
        mask = np.zeros((2, 4, 4), np.uint8); mask[0, 1:3, 1:3] = 1
        save_decision(db, {str(settings.home)!r}, SegmentRecord("1.2.3", "liver", "#ff0000", mask, mask,
                      "litemedsam", None), "accepted", "rita", None)
        os._exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    con = sqlite3.connect(settings.db_path)
    try:
        rows = con.execute("SELECT COUNT(*) FROM segmentation").fetchone()[0]
        events = con.execute("SELECT COUNT(*) FROM audit_event WHERE action LIKE 'segmentation.%'").fetchone()[0]
    finally:
        con.close()
    assert (rows, events) == (0, 0)
    db = Database(settings.db_path)
    try:
        assert _verify(db).intact
    finally:
        db.close()


def test_the_windows_verify_checks_the_anchor_too(db):
    """Admin tab > Audit trail > Verify chain goes through AuditTrail.verify."""
    from medstation.access.audit_query import AuditTrail
    from medstation.access.roles import UserSession

    _fill(db, 4)
    _truncate_and_rewrite_head(db.path, keep=2)
    report = AuditTrail(db, UserSession(Actor("alice", Role.admin))).verify()
    assert not report.intact and "ends at event 2" in report.reason
