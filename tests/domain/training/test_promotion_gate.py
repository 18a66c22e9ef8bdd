"""The promotion gate (issue 19.4): which comparisons count, and the decision rule that judges them.

The first four tests fail on 1c99c71: three tiny gains (p = 0.25) recommended, the Wilcoxon p was printed but
not used, a modality with five cases was judged, and a comparison against a replaced baseline promoted."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.training.comparison.ab import ComparisonResult, DecisionRule, _summaries, decide, pair_by_case


def _result(diffs_by_group: dict[str, list[float]], candidate_id: int = 2, baseline_id: int = 1) -> ComparisonResult:
    items_c, items_b = [], []
    rng = np.random.default_rng(0)
    for group, diffs in diffs_by_group.items():
        for i, d in enumerate(diffs):
            base = float(rng.uniform(0.6, 0.8))
            items_b.append({"case_key": f"{group}{i}", "group": group, "dice": base, "nsd": base})
            items_c.append({"case_key": f"{group}{i}", "group": group, "dice": base + d, "nsd": base + d})
    cases = pair_by_case(items_c, items_b, ("dice", "nsd"))
    overall, groups = _summaries(cases, ("dice", "nsd"))
    return ComparisonResult("segmentation", candidate_id, baseline_id, "dice", overall, groups, cases)


def _gains(n: int, seed: int = 1) -> list[float]:
    return list(np.random.default_rng(seed).normal(0.04, 0.01, n))


def test_three_tiny_gains_are_not_enough_to_recommend():
    out = decide(_result({"CT": [0.010, 0.012, 0.011]}), DecisionRule())
    assert not out.recommend_promote
    assert "CT: only 3 held-out cases; at least 20 per modality are needed" in out.reason
    assert "Wilcoxon signed-rank p = 0.25 is not below 0.05" in out.reason


def test_the_interval_and_the_wilcoxon_test_are_both_required():
    # Six large gains among fourteen tiny losses: the bootstrap CI of the mean lies above zero, but the
    # signed ranks balance (p close to 1): the gain rests on a few cases, and the rule says so.
    diffs = [-0.001] * 14 + [0.2] * 6
    out = decide(_result({"CT": diffs}), DecisionRule())
    interval = next(c for c in out.checks if c["check"] == "interval")
    wilcoxon = next(c for c in out.checks if c["check"] == "wilcoxon")
    assert interval["passed"] and not wilcoxon["passed"] and not out.recommend_promote
    assert "could be chance" in out.reason


def test_every_modality_needs_enough_cases_and_a_missing_one_cannot_be_judged():
    few = decide(_result({"CT": _gains(25), "MR": _gains(5, seed=2)}), DecisionRule())
    assert not few.recommend_promote and "MR: only 5 held-out cases" in few.reason
    enough = _result({"CT": _gains(25), "MR": _gains(20, seed=2)})
    assert decide(enough, DecisionRule()).recommend_promote
    missing = decide(ComparisonResult(**{**enough.to_json(), "expected_groups": ["CT", "MR", "chest_xray"]}),
                     DecisionRule())
    assert not missing.recommend_promote
    assert "chest_xray: no held-out cases, so this comparison cannot judge chest_xray" in missing.reason


def _dataset(settings, db, name: str) -> int:
    from medstation.jobs import JobContext
    from medstation.training.datasets import build_snapshot
    from medstation.training.datasets.items import SegItem

    mask = np.zeros((16, 16), bool)
    mask[2:10, 2:10] = True
    item = SegItem(name * 16, "t", "CT", "x", np.random.default_rng(0).random((16, 16)), mask)
    return build_snapshot(JobContext(), db, settings.home, name=name, kind="segmentation", origin="t",
                          items=[item], min_heldout=0).id


def _registry_with(settings, db, names=("base", "cand", "other"), trained_on=None):
    from medstation.store.model_registry import ModelRegistry

    registry = ModelRegistry(db)
    versions = []
    for i, name in enumerate(names):
        path = settings.home / f"{name}.pth"
        path.write_bytes(name.encode())
        versions.append(registry.register("segmentation", name, path, status="active" if i == 0 else "candidate",
                                          meta={"dataset_version_id": trained_on} if name == "cand" and trained_on else {}))
    return registry, versions


def _store(db, result: ComparisonResult, dataset_version_id=None) -> int:
    from medstation.store.tables import ModelComparison

    with db.session() as s:
        row = ModelComparison(kind=result.kind, candidate_id=result.candidate_id, baseline_id=result.baseline_id,
                              dataset_version_id=dataset_version_id, recommend_promote=result.recommend_promote,
                              reason=result.reason, result=result.to_json())
        s.add(row)
        s.flush()
        return int(row.id)


def _recommending(service, candidate, baseline, dataset_version_id=None) -> ComparisonResult:
    from medstation.training.comparison.gate import comparison_context

    result = _result({"CT": _gains(25)}, candidate.id, baseline.id)
    context = comparison_context(candidate, baseline, dataset_version_id, service.golden_identity("segmentation"))
    return decide(ComparisonResult(**{**result.to_json(), "context": context}), DecisionRule())


def test_a_comparison_against_a_replaced_baseline_does_not_count(settings, db):
    from medstation.training.service import TrainingService

    registry, (base, cand, other) = _registry_with(settings, db)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    _store(db, _recommending(service, cand, base))
    assert service.promotion_verdict(cand.id).allowed
    service.promote(other.id, force=True, reason="the vendor's fix")  # the baseline is no longer active
    verdict = service.promotion_verdict(cand.id)
    assert not verdict.allowed
    assert f"it was made against #{base.id}, but #{other.id} is the active version now" in verdict.text()
    with pytest.raises(UserFacingError, match="compare again with the active version"):
        service.promote(cand.id)
    assert registry.active("segmentation").id == other.id


def test_comparisons_on_another_dataset_or_golden_set_do_not_count(settings, db):
    from medstation.training.service import TrainingService

    other_set, own_set = _dataset(settings, db, "a"), _dataset(settings, db, "b")
    registry, (base, cand, _) = _registry_with(settings, db, trained_on=own_set)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    _store(db, _recommending(service, cand, base, dataset_version_id=other_set), dataset_version_id=other_set)
    verdict = service.promotion_verdict(cand.id)
    assert not verdict.allowed
    assert f"it used dataset version {other_set}, but the candidate was trained on" in verdict.text()
    comparison = _recommending(service, cand, base, dataset_version_id=own_set)
    golden_then = ComparisonResult(**{**comparison.to_json(), "context": {**comparison.context, "golden": "x"}})
    _store(db, golden_then, dataset_version_id=own_set)
    assert "the golden set has changed" in service.promotion_verdict(cand.id).text()
    _store(db, comparison, dataset_version_id=own_set)
    allowed = service.promotion_verdict(cand.id)
    assert allowed.allowed and "recommends it" in allowed.text()
    assert service.promote(cand.id).id == cand.id  # no force


def test_a_stored_verdict_is_judged_again_by_todays_rule(settings, db):
    """A comparison stored as recommending under a weaker rule (3 cases were enough) cannot promote now."""
    from medstation.training.service import TrainingService

    registry, (base, cand, _) = _registry_with(settings, db)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    weak = decide(_recommending(service, cand, base), DecisionRule(min_group_cases=3))
    small = _result({"CT": [0.01, 0.012, 0.011]}, cand.id, base.id)
    stored = ComparisonResult(**{**small.to_json(), "context": weak.context, "recommend_promote": True,
                                 "reason": "Promote: (old rule)"})
    _store(db, stored, dataset_version_id=None)
    verdict = service.promotion_verdict(cand.id)
    assert not verdict.allowed and "CT: only 3 held-out cases" in verdict.text()
