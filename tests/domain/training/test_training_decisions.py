"""A/B statistics and the promotion rule, schedules, the queue's crash recovery, auto-rollback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from medstation.training.comparison.ab import ComparisonResult, DecisionRule, _summaries, decide, pair_by_case
from medstation.training.comparison.stats import edit_similarity, paired_summary, rouge_l


def _cases(diffs_by_group: dict[str, list[float]]) -> list[dict]:
    items_c, items_b = [], []
    for group, diffs in diffs_by_group.items():
        for i, d in enumerate(diffs):
            key = f"{group}{i}"
            items_b.append({"case_key": key, "group": group, "dice": 0.7, "nsd": 0.6})
            items_c.append({"case_key": key, "group": group, "dice": 0.7 + d, "nsd": 0.6 + d})
    return pair_by_case(items_c, items_b, ("dice", "nsd"))


def _result(diffs_by_group) -> ComparisonResult:
    cases = _cases(diffs_by_group)
    overall, groups = _summaries(cases, ("dice", "nsd"))
    return ComparisonResult("segmentation", 2, 1, "dice", overall, groups, cases)


def test_paired_summary_interval_and_wilcoxon():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.8, 40)
    better = base + rng.normal(0.05, 0.02, 40)
    s = paired_summary(better, base)
    assert s.n == 40 and s.ci_low > 0.03 and s.ci_high < 0.07 and s.p_value < 1e-6
    same = paired_summary(base, base)
    assert same.mean_diff == 0 and same.ci_low == 0 and same.p_value is None


def test_rule_promotes_a_clear_gain_and_refuses_a_modality_drop():
    good = decide(_result({"CT": [0.05, 0.04, 0.06, 0.05, 0.07] * 4, "MR": [0.03, 0.04, 0.02, 0.05] * 5}),
                  DecisionRule())
    assert good.recommend_promote and good.reason.startswith("Promote: dice +0.")
    assert all(c["passed"] for c in good.checks) and {c["check"] for c in good.checks} >= {"cases", "interval",
                                                                                         "wilcoxon", "group_drop"}
    mixed = decide(_result({"CT": [0.09, 0.08, 0.1, 0.09, 0.11, 0.1], "MR": [-0.05, -0.04, -0.06]}), DecisionRule())
    assert not mixed.recommend_promote and "MR drops by 0.050" in mixed.reason
    noisy = decide(_result({"CT": [0.1, -0.1, 0.05, -0.06]}), DecisionRule())
    assert not noisy.recommend_promote and "does not lie above zero" in noisy.reason


def test_golden_set_regression_blocks_promotion():
    result = _result({"CT": [0.05, 0.04, 0.06, 0.05]})
    golden_cases = _cases({"CT": [-0.03, -0.02, -0.04]})
    result = ComparisonResult(**{**result.to_json(), "golden": _summaries(golden_cases, ("dice", "nsd"))[0]})
    out = decide(result, DecisionRule())
    assert not out.recommend_promote and "golden set regresses by 0.030" in out.reason


def test_text_metrics():
    assert rouge_l("the patient reports pain", "the patient reports pain") == 1.0
    assert edit_similarity("a b c d", "a b x d") == 0.75


def test_weekly_schedule_next_run_and_missed_run(db):
    from medstation.training.runs import schedules

    monday = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    info = schedules.set_schedule(db, "segmentation", weekday=2, hour_utc=3, now=monday)
    assert info.next_run_at == datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
    assert schedules.due(db, now=monday) == []
    later = monday + timedelta(days=5)
    (due, why), = schedules.due(db, now=later)
    assert due.id == info.id and why.startswith("missed run due 2026-12-02 03:00")
    ran = schedules.mark_ran(db, info.id, now=later)
    assert ran.next_run_at == datetime(2026, 12, 9, 3, 0, tzinfo=timezone.utc)


def test_count_schedule_fires_after_n_validated_cases(db):
    from medstation.store.tables import Segmentation, SegmentationStatus
    from medstation.training.runs import schedules

    schedules.set_schedule(db, "segmentation", every_n_cases=3)
    with db.session() as s:
        for i in range(2):
            s.add(Segmentation(series_uid="1.2", name=f"s{i}", status=SegmentationStatus.accepted))
    assert schedules.due(db) == []
    with db.session() as s:
        s.add(Segmentation(series_uid="1.2", name="s3", status=SegmentationStatus.accepted))
    (_, why), = schedules.due(db)
    assert why == "3 new validated cases"


def test_a_run_whose_worker_died_becomes_failed_with_its_log(db, settings):
    from medstation.store.tables import TrainingRunStatus
    from medstation.training import runs

    run = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                       params={}, actor="admin")
    run.log_path.write_text("epoch 1 started\n")
    runs.mark_running(db, run.id, pid=2**22 + 12345)  # no such process
    assert runs.next_queued(db) is None  # one at a time
    assert runs.recover_stale_runs(db) == [run.id]
    failed = runs.get(db, run.id)
    assert failed.status == TrainingRunStatus.failed and failed.error.endswith("epoch 1 started\n")


def promoted_pair_with_masks(db, settings):
    """(registry, old, new, mask, edited): ``new`` promoted over ``old``; an AI mask and a user-edited one."""
    from medstation.store.model_registry import ModelRegistry

    registry = ModelRegistry(db)
    (settings.home / "a.pth").write_bytes(b"a")
    (settings.home / "b.pth").write_bytes(b"b")
    old = registry.register("segmentation", "old", settings.home / "a.pth", status="active")
    new = registry.register("segmentation", "new", settings.home / "b.pth")
    registry.promote(new.id, "admin")
    mask = np.zeros((1, 8, 8), np.uint8)
    mask[0, 2:6, 2:6] = 1
    edited = mask.copy()
    edited[0, 2:6, 6:8] = 1
    return registry, old, new, mask, edited


def test_auto_rollback_when_unedited_acceptance_falls(db, settings):
    from medstation.segmentation.records import SegmentRecord, save_decision
    from medstation.training.monitoring import acceptance_rate, check_auto_rollback

    registry, old, new, mask, edited = promoted_pair_with_masks(db, settings)
    for version, ai, n in ((old.id, mask, 5), (new.id, edited, 4)):
        for _ in range(n):
            save_decision(db, settings.home, SegmentRecord("1.2", "x", "#fff", mask, ai, "e", version), "accepted",
                          "dr", None)
    assert acceptance_rate(db, old.id).rate == 1.0 and acceptance_rate(db, new.id).rate == 0.0
    assert check_auto_rollback(db, registry, margin=0.2, min_cases=5) is None  # 4 cases: too few to judge
    save_decision(db, settings.home, SegmentRecord("1.2", "x", "#fff", mask, edited, "e", new.id), "rejected", "dr", None)
    reason = check_auto_rollback(db, registry, margin=0.2, min_cases=5)
    assert reason.startswith(f"Automatic rollback of #{new.id} new: masks accepted without edits fell to 0% over 5")
    assert registry.active("segmentation").id == old.id


def test_promotion_gate_needs_a_recommending_comparison(db, settings):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.errors import PermissionDenied, UserFacingError
    from medstation.store.model_registry import ModelRegistry
    from medstation.store.tables import ModelComparison
    from medstation.training.service import TrainingService

    registry = ModelRegistry(db)
    (settings.home / "a.pth").write_bytes(b"a")
    (settings.home / "b.pth").write_bytes(b"b")
    registry.register("segmentation", "old", settings.home / "a.pth", status="active")
    new = registry.register("segmentation", "new", settings.home / "b.pth")
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    with pytest.raises(UserFacingError, match="has not been compared"):
        service.promote(new.id)
    refused = decide(_result({"CT": [0.1, -0.1, 0.05, -0.06]}), DecisionRule())
    refused = ComparisonResult(**{**refused.to_json(), "context": {"golden": service.golden_identity("segmentation")}})
    with db.session() as s:
        s.add(ModelComparison(kind="segmentation", candidate_id=new.id, baseline_id=1, reason=refused.reason,
                              recommend_promote=False, result=refused.to_json()))
    with pytest.raises(UserFacingError, match="advises against"):
        service.promote(new.id)
    assert service.promote(new.id, force=True, reason="test").id == new.id
    radiologist = TrainingService(settings=settings, db=db, session=UserSession(Actor("rad", Role.radiologist)),
                                  registry=registry)
    with pytest.raises(PermissionDenied):
        radiologist.rollback("segmentation")


def test_llm_runs_need_a_notes_snapshot(db, settings):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.jobs import JobContext
    from medstation.store.model_registry import ModelRegistry
    from medstation.training.datasets import DatasetError, build_snapshot
    from medstation.training.datasets.items import NoteItem, SegItem
    from medstation.training.service import TrainingService

    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=ModelRegistry(db))
    mask = np.zeros((16, 16), bool)
    mask[2:10, 2:10] = True
    seg = build_snapshot(JobContext(), db, settings.home, name="s", kind="segmentation", origin="t",
                         items=[SegItem("a" * 16, "t", "CT", "x", np.random.default_rng(0).random((16, 16)), mask)])
    with pytest.raises(DatasetError, match="holds segmentation cases, not notes"):
        service.queue_llm(seg.id)
    notes = build_snapshot(JobContext(), db, settings.home, name="n", kind="notes", origin="t",
                           items=[NoteItem("b" * 16, "t", "soap", "[doctor] hello there " * 10, "S: knee pain. " * 5)])
    run = service.queue_llm(notes.id, epochs=2)
    assert run.kind == "llm" and run.params["epochs"] == 2
