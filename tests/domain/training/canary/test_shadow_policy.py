"""The shadow case is stored with its audit event in one transaction, and the blind-preference policy (whether a
request is met blind) is the service's answer, not a widget's.

``test_a_shadow_case_whose_audit_fails_is_not_stored`` fails on ba9a5bd: the case was committed first and the
``model.shadow`` event appended after it, so a failing append left a case without its record.
"""

from __future__ import annotations

import random

import numpy as np
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus, ShadowCase
from medstation.training.canary.candidates import CandidateModels
from medstation.training.canary.shadow import SegmentationRequest, ShadowSampler, ShadowService
from tests.shadow_support import BoxEngine

ADMIN = UserSession(Actor("dr.admin", Role.admin))


def _service(settings, db, registry):
    settings.shadow_share_segmentation = 1.0
    models = CandidateModels(settings, db, engine_loader=lambda version, s: BoxEngine(inset=4))
    return ShadowService(settings=settings, db=db, session=ADMIN, registry=registry, models=models,
                         sampler=ShadowSampler(random.Random(0)))


def _register(registry, tmp_path, kind: ModelKind, name: str, status=ModelStatus.candidate):
    path = tmp_path / f"{kind.value}-{name}"
    path.write_bytes(name.encode())
    return registry.register(kind, name, path, status=status)


def test_a_shadow_case_whose_audit_fails_is_not_stored(settings, db, tmp_path, monkeypatch):
    registry = ModelRegistry(db)
    active = _register(registry, tmp_path, ModelKind.segmentation, "active", ModelStatus.active)
    _register(registry, tmp_path, ModelKind.segmentation, "candidate")
    service = _service(settings, db, registry)
    image = np.random.default_rng(0).random((64, 72)).astype(np.float32)
    box = (10.0, 12.0, 50.0, 40.0)
    request = SegmentationRequest("1.2.3.9", 5, box, image, BoxEngine(2).decode(image, box).mask, None, "CT")
    real = db.audit

    def audit(action, **kwargs):
        if action == "model.shadow":
            raise OSError("disk full")
        return real(action, **kwargs)

    monkeypatch.setattr(db, "audit", audit)
    assert service.run_segmentation(JobContext(), service.plan(ModelKind.segmentation, active.id), request) is None
    with db.session() as s:
        assert s.exec(select(ShadowCase)).first() is None  # ba9a5bd: stored without its event
    monkeypatch.undo()
    info = service.run_segmentation(JobContext(), service.plan(ModelKind.segmentation, active.id), request)
    with db.session() as s:
        assert [c.id for c in s.exec(select(ShadowCase))] == [info.id]
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "model.shadow")).all()
        assert [e.entity_id for e in events] == [str(info.id)]


def test_blind_preference_applies_when_switched_on_for_the_kind_and_a_candidate_exists(settings, db, tmp_path):
    registry = ModelRegistry(db)
    service = _service(settings, db, registry)
    settings.blind_preference_segmentation, settings.blind_preference_notes = True, False
    assert not service.blind_applies(ModelKind.segmentation)  # on, but no candidate to meet
    _register(registry, tmp_path, ModelKind.segmentation, "active", ModelStatus.active)
    assert not service.blind_applies("segmentation")  # an active version alone is no candidate
    _register(registry, tmp_path, ModelKind.segmentation, "candidate")
    assert service.blind_applies("segmentation")
    _register(registry, tmp_path, ModelKind.llm, "adapter")
    assert not service.blind_applies(ModelKind.llm)  # a candidate, but blind mode is off for notes
    settings.blind_preference_notes = True
    assert service.blind_applies(ModelKind.llm)
    settings.blind_preference_segmentation = False
    assert not service.blind_applies(ModelKind.segmentation)
