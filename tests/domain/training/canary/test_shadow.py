"""Shadow (canary) mode: sampling, storage, metrics against the accepted output, failures kept off the active path.

The candidate models here are test doubles (a box-filling "engine", a chat backend that answers nothing):
they exercise the mechanics; the real models are run by the e2e test.
"""

from __future__ import annotations

import os
import random
import threading
import time
import numpy as np
import pytest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.foreground import ForegroundGate
from medstation.jobs import JobContext
from medstation.segmentation import metrics
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus, ShadowCase
from medstation.training.canary.candidates import CandidateModels, newest_candidate
from medstation.training.canary.outcomes import compare_shadow, paired_cases, resolve_outcomes, shadow_summary
from medstation.training.canary.shadow import (BackgroundContext, SegmentationRequest, ShadowSampler, ShadowService,
                                               ShadowStatus, lower_thread_priority)
from tests.shadow_support import BoxEngine

ADMIN = UserSession(Actor("dr.admin", Role.admin))


def _file(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def registry(db):
    return ModelRegistry(db)


def _versions(registry, tmp_path, kind=ModelKind.segmentation):
    active = registry.register(kind, "active", _file(tmp_path, f"{kind.value}-a", b"a"), status=ModelStatus.active)
    candidate = registry.register(kind, "candidate", _file(tmp_path, f"{kind.value}-c", b"c"))
    return active, candidate


def _service(settings, db, registry, *, share=1.0, loader=None, seed=0):
    settings.shadow_share_segmentation = share
    settings.shadow_share_notes = share
    models = CandidateModels(settings, db, engine_loader=loader or (lambda version, s: BoxEngine(inset=4)))
    return ShadowService(settings=settings, db=db, session=ADMIN, registry=registry, models=models,
                         sampler=ShadowSampler(random.Random(seed)))


# --- sampling ---------------------------------------------------------------------------------------


def test_sampling_share_zero_never_draws_share_one_always_runs():
    rng = random.Random(3)
    sampler = ShadowSampler(rng)
    state = rng.getstate()
    assert not any(sampler.take(0.0) for _ in range(500))
    assert rng.getstate() == state  # off means no draw at all
    assert all(sampler.take(1.0) for _ in range(500))


def test_sampling_is_deterministic_with_a_seeded_rng():
    a, b = ShadowSampler(random.Random(11)), ShadowSampler(random.Random(11))
    draws_a = [a.take(0.3) for _ in range(2000)]
    assert draws_a == [b.take(0.3) for _ in range(2000)]
    assert 0.27 < sum(draws_a) / len(draws_a) < 0.33


def test_plan_needs_a_share_and_a_newer_candidate(settings, db, registry, tmp_path):
    service = _service(settings, db, registry, share=1.0)
    assert service.plan(ModelKind.segmentation, None) is None  # no candidate registered
    active, candidate = _versions(registry, tmp_path)
    newer = registry.register(ModelKind.segmentation, "newer", _file(tmp_path, "n", b"n"))
    assert newest_candidate(registry, ModelKind.segmentation).id == newer.id
    plan = service.plan(ModelKind.segmentation, active.id)
    assert (plan.active_version_id, plan.candidate_version_id, plan.requested_by) == (active.id, newer.id, "dr.admin")
    assert service.plan(ModelKind.segmentation, active.id, pending=ShadowService.MAX_PENDING) is None  # backlog
    settings.shadow_share_segmentation = 0.0
    assert service.plan(ModelKind.segmentation, active.id) is None


# --- segmentation: storage and metrics --------------------------------------------------------------


def _request(box=(10.0, 12.0, 50.0, 40.0), active_inset=2):
    image = np.random.default_rng(0).random((64, 72)).astype(np.float32)
    active = BoxEngine(active_inset).decode(image, box).mask
    return SegmentationRequest("1.2.3.9", 5, box, image, active, (40.0, 400.0), "CT")


def test_segmentation_case_is_stored_with_both_ids_masks_and_dice(settings, db, registry, tmp_path):
    active, candidate = _versions(registry, tmp_path)
    service = _service(settings, db, registry)
    request = _request()
    info = service.run_segmentation(JobContext(), service.plan(ModelKind.segmentation, active.id), request)
    assert info.status is ShadowStatus.done
    expected_candidate = BoxEngine(4).decode(request.image, request.box).mask
    assert info.vs_active["dice"] == pytest.approx(metrics.dice(expected_candidate, request.active_mask), abs=1e-5)
    with db.session() as s:
        row = s.get(ShadowCase, info.id)
        assert (row.active_version_id, row.candidate_version_id) == (active.id, candidate.id)
        assert row.reference == "series:1.2.3.9" and row.context["slice"] == 5 and len(row.inputs_sha256) == 64
        assert row.requested_at <= row.finished_at
        path = row.mask_path
    with np.load(path) as masks:
        assert np.array_equal(masks["active"].astype(bool), request.active_mask)
        assert np.array_equal(masks["candidate"].astype(bool), expected_candidate)
    with db.session() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "model.shadow")).first() is not None


def test_accepting_the_segment_scores_both_models_and_feeds_the_comparison(settings, db, registry, tmp_path):
    from medstation.segmentation.records import SegmentRecord, save_decision

    active, candidate = _versions(registry, tmp_path)
    service = _service(settings, db, registry)
    boxes = [(10.0, 12.0, 50.0, 40.0), (20.0, 8.0, 60.0, 44.0), (5.0, 5.0, 45.0, 30.0), (14.0, 20.0, 66.0, 58.0)]
    truths = []
    for k, box in enumerate(boxes):
        request = SegmentationRequest("1.2.3.9", k, box, _request(box).image, _request(box).active_mask, None, "CT")
        service.run_segmentation(JobContext(), service.plan(ModelKind.segmentation, active.id), request)
        truth = BoxEngine(5).decode(request.image, box).mask  # the user's correction: tighter than both models
        truths.append(truth)
    assert resolve_outcomes(db) == 0  # nothing accepted yet
    volume_mask = np.stack(truths).astype(np.uint8)
    prompts = [{"v": 1, "slice": k, "box": list(box)} for k, box in enumerate(boxes)]
    record = SegmentRecord("1.2.3.9", "liver", "#ff0000", volume_mask, volume_mask, "litemedsam", active.id, prompts)
    save_decision(db, settings.home, record, "accepted", "dr.admin", None)
    assert resolve_outcomes(db) == 4
    assert resolve_outcomes(db) == 0  # each case is scored once

    cases = paired_cases(db, candidate.id, active.id)
    assert len(cases) == 4
    for case, box, truth in zip(cases, boxes, truths):
        image = _request(box).image
        assert case["dice_baseline"] == pytest.approx(metrics.dice(BoxEngine(2).decode(image, box).mask, truth), abs=1e-5)
        assert case["dice_candidate"] == pytest.approx(metrics.dice(BoxEngine(4).decode(image, box).mask, truth), abs=1e-5)
        assert case["dice_candidate"] > case["dice_baseline"]  # inset 4 is nearer the inset-5 truth
    summary = shadow_summary(db)[0]
    assert (summary.candidate_version_id, summary.n_cases, summary.n_resolved, summary.n_failed) == (candidate.id, 4, 4, 0)
    assert summary.paired["mean_diff"] == pytest.approx(np.mean([c["dice_candidate"] - c["dice_baseline"] for c in cases]))
    assert summary.paired["ci_low"] > 0 and summary.paired["p_value"] is not None
    result = compare_shadow(db, candidate.id, active.id)
    assert result.overall["dice"]["n"] == 4 and not result.recommend_promote  # 4 cases cannot show a gain
    assert "CT: only 4 held-out cases" in result.reason and "Wilcoxon signed-rank p = 0.12" in result.reason
    assert result.overall["dice"]["mean_diff"] == pytest.approx(summary.paired["mean_diff"])


def test_a_failing_candidate_is_recorded_and_never_raises(settings, db, registry, tmp_path):
    active, candidate = _versions(registry, tmp_path)

    def broken(version, s):
        raise RuntimeError("checkpoint does not fit the engine")

    service = _service(settings, db, registry, loader=broken)
    request = _request()
    before = request.active_mask.copy()
    info = service.run_segmentation(JobContext(), service.plan(ModelKind.segmentation, active.id), request)
    assert info.status is ShadowStatus.failed and "does not fit" in info.error
    assert np.array_equal(request.active_mask, before)  # the active answer is untouched
    summary = shadow_summary(db)[0]
    assert (summary.n_cases, summary.n_failed, summary.paired) == (0, 1, None)
    assert "does not fit" in summary.last_error


# --- background behaviour ---------------------------------------------------------------------------


def test_background_context_waits_while_foreground_work_streams():
    gate = ForegroundGate()
    ctx = BackgroundContext(JobContext(), gate)
    held = threading.Event()

    def answer():
        with gate.hold():
            held.set()
            time.sleep(0.4)

    thread = threading.Thread(target=answer)
    thread.start()
    held.wait(2)
    ctx.check()
    thread.join()
    assert ctx.waited_s >= 0.3
    ctx.partial("dropped")  # partials of a shadow run go nowhere


@pytest.mark.skipif(not os.sys.platform.startswith("linux"), reason="per-thread nice is Linux-specific")
def test_lower_thread_priority_touches_only_the_worker_thread():
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def work():
        lower_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["nice"] == 19
    lower_thread_priority()  # on the main thread: nothing
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice


def test_summary_counts_candidate_drafts_cut_by_the_time_budget(settings, db, registry, tmp_path):
    active, candidate = _versions(registry, tmp_path, ModelKind.llm)
    with db.session() as s:
        for cut in (True, False, True):
            s.add(ShadowCase(kind="llm", status="done", active_version_id=active.id, candidate_version_id=candidate.id,
                             vs_active={"rougeL": 0.8, "edit_similarity": 0.7},
                             candidate_provenance={"checks": {"rewrite_budget_reached": cut}}))
    summary = shadow_summary(db)[0]
    assert (summary.n_cases, summary.n_budget_cut, summary.metric) == (3, 2, "rougeL")
    assert summary.agreement == pytest.approx(0.8)
