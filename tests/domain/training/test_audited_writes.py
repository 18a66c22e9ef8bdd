"""Each training decision is audited once, inside its write's transaction: the write and its event commit
together or not at all, and the permission is checked once (by the service).

Every test here fails on ba9a5bd: there compare stored its row and the candidate's metrics before a separate
``model.compare`` event, promote and rollback wrote two events each (the registry's ``model.*`` in its
transaction, then the service's ``admin.*`` after it), and a schedule or a withdrawn run was saved before its
event. A failure injected into the audit append (a full disk, a locked database) left the change without its
record.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, ModelComparison, ModelKind, ModelStatus, TrainingSchedule
from medstation.training.service import TrainingService

ADMIN = UserSession(Actor("ann", Role.admin))


class AuditFailed(RuntimeError):
    pass


def fail_audit_of(db, monkeypatch, action: str) -> None:
    """Make appending an ``action`` audit event fail (as a full disk would); other events are written."""
    real = db.audit

    def audit(act, **kwargs):
        if act == action:
            raise AuditFailed(f"cannot append {act}")
        return real(act, **kwargs)

    monkeypatch.setattr(db, "audit", audit)


def events(db, entity_id: int | None = None) -> list[AuditEvent]:
    with db.session() as s:
        query = select(AuditEvent).where(AuditEvent.entity == "model_version")
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == str(entity_id))
        return list(s.exec(query.order_by(AuditEvent.id)))


@pytest.fixture
def two_versions(settings, db):
    """A registry with an active segmentation version and a candidate, and an admin's training service."""
    registry = ModelRegistry(db)
    for name in ("base.pth", "tuned.pth"):
        (settings.home / name).write_bytes(name.encode() * 8)
    base = registry.register(ModelKind.segmentation, "base", settings.home / "base.pth", status=ModelStatus.active)
    cand = registry.register(ModelKind.segmentation, "tuned", settings.home / "tuned.pth")
    service = TrainingService(settings=settings, db=db, session=ADMIN, registry=registry)
    return service, base, cand


def test_promote_writes_one_event_with_the_reason_and_the_versions(two_versions, db):
    service, base, cand = two_versions
    before = len(events(db))
    service.promote(cand.id, force=True, reason="validated on the clinic's phantom")
    (event,) = events(db)[before:]  # ba9a5bd: model.promote and admin.promote
    assert event.action == "admin.promote" and event.actor == "ann" and event.entity_id == str(cand.id)
    assert event.detail["forced"] is True and event.detail["reason"] == "validated on the clinic's phantom"
    assert (event.detail["from_version"], event.detail["to_version"]) == (base.id, cand.id)


def test_a_promotion_whose_audit_fails_changes_nothing(two_versions, db, monkeypatch):
    service, base, cand = two_versions
    before = len(events(db))
    fail_audit_of(db, monkeypatch, "admin.promote")
    with pytest.raises(AuditFailed):
        service.promote(cand.id, force=True, reason="validated")
    assert service.registry.active(ModelKind.segmentation).id == base.id  # ba9a5bd: the candidate was active
    assert service.registry.get(cand.id).status == ModelStatus.candidate
    assert len(events(db)) == before


def test_rollback_writes_one_event_and_a_failed_audit_rolls_it_back(two_versions, db, monkeypatch):
    service, base, cand = two_versions
    service.promote(cand.id, force=True, reason="validated")
    before = len(events(db))
    with monkeypatch.context() as m:
        fail_audit_of(db, m, "admin.rollback")
        with pytest.raises(AuditFailed):
            service.rollback("segmentation", reason="holes in liver masks")
    assert service.registry.active(ModelKind.segmentation).id == cand.id  # ba9a5bd: rolled back, unrecorded
    assert len(events(db)) == before

    service.rollback("segmentation", reason="holes in liver masks")
    (event,) = events(db)[before:]  # ba9a5bd: model.rollback and admin.rollback
    assert event.action == "admin.rollback" and event.detail["reason"] == "holes in liver masks"
    assert event.detail["kind"] == "segmentation" and event.detail["to_version"] == base.id
    assert service.registry.active(ModelKind.segmentation).id == base.id


def test_promotion_checks_the_permission_once(two_versions, monkeypatch):
    service, base, cand = two_versions
    asked = []
    real = Actor.can

    def can(actor, permission):
        asked.append(permission)
        return real(actor, permission)

    monkeypatch.setattr(Actor, "can", can)
    service.promote(cand.id, force=True, reason="validated")
    service.rollback("segmentation", reason="back")
    assert len(asked) == 2  # ba9a5bd: 4 (the service, then the registry again)


def test_a_schedule_whose_audit_fails_is_not_saved(settings, db, monkeypatch):
    service = TrainingService(settings=settings, db=db, session=ADMIN, registry=ModelRegistry(db))
    fail_audit_of(db, monkeypatch, "training.schedule")
    with pytest.raises(AuditFailed):
        service.set_schedule("segmentation", every_n_cases=25)
    with db.session() as s:
        assert s.exec(select(TrainingSchedule)).first() is None  # ba9a5bd: saved without its event


def test_a_comparison_whose_audit_fails_leaves_no_row_and_no_metrics(settings, db, monkeypatch):
    from medstation.training.comparison.notes import DraftOutcome
    from tests.domain.training.comparison.test_training_notes_ab import _half, _notes_snapshot

    registry = ModelRegistry(db)
    (settings.home / "base.gguf").write_bytes(b"base")
    (settings.home / "lora.gguf").write_bytes(b"adapter")
    version = _notes_snapshot(db, settings)
    base = registry.register("llm", "SmolLM2", settings.home / "base.gguf", status="active")
    cand = registry.register("llm", "LoRA", settings.home / "lora.gguf", parent_id=base.id,
                             meta={"adapter": True, "dataset_version_id": version.id})
    service = TrainingService(settings=settings, db=db, session=ADMIN, registry=registry)

    def fake_drafter(v):
        return lambda ctx, row: DraftOutcome(row["note"] if v.id == cand.id else _half(row["note"]))

    monkeypatch.setattr(service, "notes_drafter", fake_drafter)
    fail_audit_of(db, monkeypatch, "model.compare")
    with pytest.raises(AuditFailed):
        service.compare(JobContext(), cand.id)
    with db.session() as s:
        assert s.exec(select(ModelComparison)).first() is None  # ba9a5bd: stored without its event
    assert "ab_comparison_id" not in registry.get(cand.id).metrics

    monkeypatch.undo()
    monkeypatch.setattr(service, "notes_drafter", fake_drafter)
    comparison_id, _ = service.compare(JobContext(), cand.id)
    (event,) = [e for e in events(db, cand.id) if e.action == "model.compare"]
    assert event.detail["comparison_id"] == comparison_id
    assert registry.get(cand.id).metrics["ab_comparison_id"] == comparison_id


def test_a_withdrawal_whose_audit_fails_leaves_the_run_queued(settings, db, monkeypatch):
    from medstation.store.tables import TrainingRunStatus
    from medstation.training import runs

    service = TrainingService(settings=settings, db=db, session=ADMIN, registry=ModelRegistry(db))
    queued = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                          params={}, actor="ann")
    with monkeypatch.context() as m:
        fail_audit_of(db, m, "training.withdraw")
        with pytest.raises(AuditFailed):
            service.cancel_queued(queued.id)
    assert runs.get(db, queued.id).status == TrainingRunStatus.queued  # ba9a5bd: withdrawn without its event
    service.cancel_queued(queued.id)
    assert runs.get(db, queued.id).status == TrainingRunStatus.cancelled
    with db.session() as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "training.withdraw")).all()
    assert event.entity_id == str(queued.id) and event.actor == "ann"
