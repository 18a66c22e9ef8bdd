"""Blind preference: seeded order, storage of the pick with both versions and the order, the sign test."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import PermissionDenied
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus, PreferenceChoice
from medstation.training.canary.preference import (BlindPair, BlindSession, PreferenceOutcome, preference_summary,
                                                   record_choice, sign_test)

THERAPIST = UserSession(Actor("dr.lee", Role.therapist))


@pytest.fixture
def versions(db, tmp_path):
    registry = ModelRegistry(db)
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "c").write_bytes(b"c")
    active = registry.register(ModelKind.llm, "active", tmp_path / "a", status=ModelStatus.active)
    return active, registry.register(ModelKind.llm, "candidate", tmp_path / "c")


def _pair(active, candidate, index: int, seed="feedc0de") -> BlindPair:
    order = BlindSession.order_for(seed, index)
    return BlindPair("llm", active.id, candidate.id, order, seed, index, {"active": "draft α", "candidate": "draft β"},
                     "0" * 64, {"session_id": 3})


def test_order_is_seeded_per_session_and_both_orders_occur():
    a, b = BlindSession("s1"), BlindSession("s1")
    orders = [a.next_order() for _ in range(200)]
    assert orders == [b.next_order() for _ in range(200)]
    assert [i for i, _ in orders] == list(range(200))
    firsts = [o[0] for _, o in orders]
    assert 70 < firsts.count("candidate") < 130  # random order, about half each way
    assert BlindSession("s2").next_order() == (0, BlindSession.order_for("s2", 0))


def test_letters_map_to_models_through_the_stored_order(versions):
    active, candidate = versions
    pair = BlindPair("llm", active.id, candidate.id, ("candidate", "active"), "s", 0,
                     {"active": "draft α", "candidate": "draft β"}, "")
    assert pair.shown("A") == "draft β" and pair.outcome("A") is PreferenceOutcome.candidate
    assert pair.outcome("B") is PreferenceOutcome.active and pair.kept("B") == "draft α"
    assert pair.outcome("neither") is PreferenceOutcome.neither and pair.kept("neither") == "draft α"


def test_choice_is_stored_with_both_versions_order_and_an_audit_event(db, versions):
    active, candidate = versions
    pair = _pair(active, candidate, 4)
    letter = "A" if pair.order[0] == "candidate" else "B"
    info = record_choice(db, THERAPIST, pair, letter)
    assert info.outcome is PreferenceOutcome.candidate and info.chosen_version_id == candidate.id
    with db.session() as s:
        row = s.get(PreferenceChoice, info.id)
        assert row.shown_order == list(pair.order) and (row.session_seed, row.request_index) == ("feedc0de", 4)
        assert (row.active_version_id, row.candidate_version_id, row.chosen) == (active.id, candidate.id, "candidate")
        assert row.chosen_by == "dr.lee"
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "model.preference")).one()
        assert event.actor == "dr.lee" and event.entity_id == str(info.id)


def test_a_read_only_user_cannot_record_a_choice(db, versions):
    with pytest.raises(PermissionDenied):
        record_choice(db, UserSession(Actor("guest", Role.read_only)), _pair(*versions, 0), "A")


def test_summary_counts_and_the_two_sided_sign_test_exclude_neither(db, versions):
    active, candidate = versions
    picks = ["candidate"] * 8 + ["active"] * 2 + ["neither"] * 3
    for i, want in enumerate(picks):
        pair = _pair(active, candidate, i)
        letter = "neither" if want == "neither" else "AB"[pair.order.index(want)]
        record_choice(db, THERAPIST, pair, letter)
    summary = preference_summary(db)[0]
    assert (summary.candidate_version_id, summary.n_candidate, summary.n_active, summary.n_neither) == \
        (candidate.id, 8, 2, 3)
    assert summary.p_value == pytest.approx(binomtest(8, 10, 0.5).pvalue)
    assert summary.p_value == pytest.approx(0.109375)
    assert summary.candidate_share == pytest.approx(0.8)
    assert sign_test(0, 0) is None and sign_test(5, 5) == pytest.approx(1.0)
