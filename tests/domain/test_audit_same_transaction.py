"""The remaining writes that were audited after they committed: each now fails as one unit with its event.

A failure injected into the audit append (a full disk, a locked database) must leave the write undone, so
the trail never misses a change it should record. Every test here fails on cd183f4, where the write had
already committed in its own transaction when the append failed.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from medstation.access.account_admin import AccountAdmin
from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelAlert, TrainingRun
from tests.domain.test_account_admin import FAST, STRONG
from tests.domain.training.litemedsam.test_training_search import search_env  # noqa: F401 (fixture)
from tests.domain.training.test_audited_writes import AuditFailed, fail_audit_of


def test_a_role_change_whose_audit_fails_is_not_saved(db, monkeypatch):
    from medstation.access.users import AccountStore

    store = AccountStore(db, hasher=FAST)
    store.add_user("alice", Role.admin, STRONG)
    store.add_user("rita", Role.radiologist, STRONG, session=UserSession(Actor("alice", Role.admin)))
    admin = AccountAdmin(store, UserSession(Actor("alice", Role.admin)))
    fail_audit_of(db, monkeypatch, "user.role_changed")
    with pytest.raises(AuditFailed):
        admin.change_role("rita", "therapist")
    assert store.get("rita").role is Role.radiologist


def _saved_segment(db, settings, version_id=None):
    from medstation.segmentation.records import SegmentRecord, save_decision

    mask = np.zeros((1, 8, 8), np.uint8)
    mask[0, 2:6, 2:6] = 1
    return save_decision(db, settings.home, SegmentRecord("1.2", "liver", "#fff", mask, mask, "e", version_id),
                         "accepted", "dr", None)


def test_a_rename_whose_audit_fails_keeps_the_old_name(db, settings, monkeypatch):
    from medstation.segmentation.service import rename_stored_segment
    from medstation.store.tables import Segmentation

    seg_id = _saved_segment(db, settings)
    seg_id = getattr(seg_id, "id", seg_id)
    fail_audit_of(db, monkeypatch, "segmentation.rename")
    with pytest.raises(AuditFailed):
        rename_stored_segment(db, seg_id, "spleen", "dr")
    with db.session() as s:
        assert s.get(Segmentation, int(seg_id)).name == "liver"


def test_an_acknowledgement_whose_audit_fails_leaves_the_alert_open(db, monkeypatch):
    from medstation.training import monitoring

    with db.session() as s:
        alert = ModelAlert(category="auto_rollback", message="rolled back")
        s.add(alert)
        s.flush()
        alert_id = int(alert.id)
    fail_audit_of(db, monkeypatch, "alert.acknowledge")
    with pytest.raises(AuditFailed):
        monitoring.acknowledge(db, alert_id, "ann")
    assert [a["id"] for a in monitoring.alerts(db)] == [alert_id]


def test_an_auto_rollback_whose_audit_fails_keeps_the_version_active(db, settings, monkeypatch):
    from medstation.segmentation.records import SegmentRecord, save_decision
    from medstation.training.monitoring import check_auto_rollback

    from tests.domain.training.test_training_decisions import promoted_pair_with_masks

    registry, old, new, mask, edited = promoted_pair_with_masks(db, settings)
    for version, ai in ((old.id, mask),) * 5 + ((new.id, edited),) * 5:
        save_decision(db, settings.home, SegmentRecord("1.2", "x", "#fff", mask, ai, "e", version), "accepted",
                      "dr", None)
    fail_audit_of(db, monkeypatch, "model.auto_rollback")
    with pytest.raises(AuditFailed):
        check_auto_rollback(db, registry, margin=0.2, min_cases=5)
    assert ModelRegistry(db).active("segmentation").id == new.id  # cd183f4: rolled back, with no record of why
    with db.session() as s:
        assert s.exec(select(ModelAlert)).first() is None
    monkeypatch.undo()
    reason = check_auto_rollback(db, registry, margin=0.2, min_cases=5)
    assert reason.startswith(f"Automatic rollback of #{new.id}")
    assert registry.active("segmentation").id == old.id


def test_a_search_whose_audit_fails_leaves_no_queued_run(search_env, db, monkeypatch):
    from medstation.jobs import JobContext

    service, version, registry, seen, run_worker = search_env
    fail_audit_of(db, monkeypatch, "training.search")
    with pytest.raises(AuditFailed):
        service.search_segmentation(JobContext(), version.id, lrs=(1e-4,), epoch_counts=(1,), run_worker=run_worker)
    with db.session() as s:
        assert s.exec(select(TrainingRun)).all() == []  # cd183f4: an orphan search run stayed queued
    assert seen["trained"] == []


def test_a_scheduled_run_whose_audit_fails_is_neither_queued_nor_marked_ran(search_env, db, monkeypatch):
    from medstation.jobs import JobContext
    from medstation.training.runs import schedules

    service, version, registry, seen, run_worker = search_env
    service.set_schedule("segmentation", every_n_cases=1)
    monkeypatch.setattr(service, "build_clinic_dataset", lambda ctx: version)
    monkeypatch.setattr(schedules, "due", lambda db_: [(schedules.schedules(db)[0], "test: due")])
    before = schedules.schedules(db)[0]
    fail_audit_of(db, monkeypatch, "training.scheduled_run")
    with pytest.raises(AuditFailed):
        service.queue_due_schedules(JobContext())
    with db.session() as s:
        assert s.exec(select(TrainingRun)).all() == []
    assert schedules.schedules(db)[0] == before  # not marked as ran


# Events that record something other than a database write of their own (a sign-in, a refusal, a file
# written outside the store, a view, a network transfer, a lock). They have no write to share a
# transaction with, so they are appended on their own. Any other audit call must pass ``session=``.
EVENT_ONLY = {
    "user.logout", "user.login", "user.login_failed", "access.denied", "session.locked", "session.unlocked",
    "audit.export", "store.backup", "store.restore", "store.copied", "store.encrypted",
    "pacs.retrieve", "pacs.send", "pacs.receive", "imaging.index", "imaging.view", "imaging.export_deidentified",
    "notes.export", "segmentation.export", "viewer.screenshot", "selftest.write",
    "training.agent_upload", "training.cancel", "model.preference.failed",
}


def _audit_calls_without_a_session():
    import ast
    from pathlib import Path

    import medstation

    for path in sorted(Path(medstation.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "audit"
                    and "session" not in {k.arg for k in node.keywords}):
                first = node.args[0] if node.args else None
                action = first.value if isinstance(first, ast.Constant) else ast.unparse(first) if first else "?"
                yield f"{path.name}:{node.lineno}", action


def test_every_audit_outside_a_transaction_records_an_event_not_a_write():
    unexpected = [(where, action) for where, action in _audit_calls_without_a_session() if action not in EVENT_ONLY]
    # cd183f4: user.role_changed, segmentation.rename, alert.acknowledge, training.search, training.scheduled_run
    assert unexpected == []
