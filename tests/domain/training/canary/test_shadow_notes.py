"""Shadow runs and blind preference on the notes drafting path, with a test-double candidate backend.

``ThirdPersonBackend`` (tests/shadow_support.py) stands in for a drafting model, so the candidate's draft
really differs from the active (extractive) one. The real GGUF path runs in tests/e2e.
"""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.service import NotesService
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus, NoteRevision, ShadowCase
from medstation.training.canary.candidates import CandidateModels
from medstation.training.canary.outcomes import paired_cases, resolve_outcomes
from medstation.training.canary.preference import BlindSession, draft_blind_pair
from medstation.training.canary.shadow import ShadowSampler, ShadowService, ShadowStatus
from medstation.training.comparison.stats import edit_similarity, rouge_l
from tests.shadow_support import ThirdPersonBackend

THERAPIST = UserSession(Actor("dr.lee", Role.therapist))
TRANSCRIPT = """Therapist: How was the week?
Client: I have been feeling anxious at work and I sleep badly since the move.
Therapist: We will practice breathing exercises and keep a sleep diary until next session.
Client: I walked every morning and that helped my mood.
"""


@pytest.fixture
def setup(settings, db, tmp_path):
    registry = ModelRegistry(db)
    (tmp_path / "active.gguf").write_bytes(b"active")
    (tmp_path / "cand.gguf").write_bytes(b"candidate")
    active = registry.register(ModelKind.llm, "active", tmp_path / "active.gguf", status=ModelStatus.active)
    candidate = registry.register(ModelKind.llm, "candidate", tmp_path / "cand.gguf")
    notes = NotesService(settings, db, THERAPIST)  # no LLM: the active draft is extractive
    client = notes.create_client("C-7")
    session = notes.create_session(client.id, "2026-12-01")
    notes.import_transcript(session.id, TRANSCRIPT, "s.txt")
    return registry, notes, session.id, active, candidate


def _shadow(settings, db, registry, loader):
    settings.shadow_share_notes = 1.0
    return ShadowService(settings=settings, db=db, session=THERAPIST, registry=registry,
                         models=CandidateModels(settings, db, backend_loader=loader),
                         sampler=ShadowSampler(random.Random(0)))


def test_candidate_draft_is_stored_beside_the_active_one_and_scored_at_sign_off(settings, db, setup):
    registry, notes, session_id, active, candidate = setup
    shadow = _shadow(settings, db, registry, lambda version, db_, s: ThirdPersonBackend())
    note = notes.draft(JobContext(), session_id, "soap")
    info = shadow.run_notes(JobContext(), shadow.plan(ModelKind.llm, active.id), note.id)
    assert info.status is ShadowStatus.done, info.error
    with db.session() as s:
        row = s.get(ShadowCase, info.id)
        assert row.active_output == note.text and "The client reports" in row.candidate_output
        assert row.vs_active["rougeL"] == pytest.approx(rouge_l(row.candidate_output, note.text), abs=1e-5)
        assert row.vs_active["edit_similarity"] == pytest.approx(edit_similarity(row.candidate_output, note.text),
                                                                 abs=1e-5)
        assert row.candidate_provenance["model"]["version_id"] == candidate.id
        assert row.context["note_id"] == note.id and row.context["template"] == "soap"
        candidate_text = row.candidate_output
    assert notes.note(note.id).text == note.text  # the working draft is still the active one

    doc = notes.tracked(note.id)  # the therapist edits one sentence before signing
    at = doc.text.index("anxious at work") + len("anxious at work")
    doc.replace(at, at, " (GAD-7 pending)", author="dr.lee", at="now")
    notes.save_revision(note.id, doc)
    notes.sign(note.id, notes.note(note.id).text)
    final = notes.note(note.id).text
    assert resolve_outcomes(db) == 1
    case = paired_cases(db, candidate.id, active.id)[0]
    assert case["rougeL_baseline"] == pytest.approx(rouge_l(note.text, final), abs=1e-5)
    assert case["rougeL_candidate"] == pytest.approx(rouge_l(candidate_text, final), abs=1e-5)


def test_a_candidate_that_fails_to_load_leaves_the_note_alone(settings, db, setup):
    registry, notes, session_id, active, candidate = setup

    def broken(version, db_, s):
        raise OSError("model file truncated")

    shadow = _shadow(settings, db, registry, broken)
    note = notes.draft(JobContext(), session_id, "soap")
    info = shadow.run_notes(JobContext(), shadow.plan(ModelKind.llm, active.id), note.id)
    assert info.status is ShadowStatus.failed and "truncated" in info.error
    with db.session() as s:
        assert len(s.exec(select(NoteRevision).where(NoteRevision.note_id == note.id)).all()) == 1
    assert notes.note(note.id).text == note.text


def test_blind_pair_keeps_the_picked_draft_with_its_own_provenance(settings, db, setup):
    registry, notes, session_id, active, candidate = setup
    shadow = _shadow(settings, db, registry, lambda version, db_, s: ThirdPersonBackend())
    result = draft_blind_pair(JobContext(), notes, shadow, BlindSession("seed-1"), session_id, "soap")
    pair = result.pair
    assert pair is not None and pair.order == BlindSession.order_for("seed-1", 0)
    letter = "A" if pair.order[0] == "candidate" else "B"
    kept = pair.kept(letter)
    assert kept.model_info["version_id"] == candidate.id
    note = notes.store_draft(kept, blind_preference=True)
    assert note.draft["provenance"]["model"]["version_id"] == candidate.id
    assert "The client reports" in note.text
    assert pair.kept("neither") is pair.outputs["active"]


def test_blind_pair_falls_back_to_the_active_draft_when_the_candidate_fails(settings, db, setup):
    registry, notes, session_id, active, candidate = setup

    def broken(version, db_, s):
        raise RuntimeError("no such adapter")

    shadow = _shadow(settings, db, registry, broken)
    result = draft_blind_pair(JobContext(), notes, shadow, BlindSession("s"), session_id, "soap")
    assert result.pair is None and "no such adapter" in result.message
    assert result.active_output.model_info == {}  # the active (extractive, here) draft, not stored yet
    assert notes.notes_for_session(session_id) == []


def test_equal_drafts_need_no_choice(settings, db, setup):
    registry, notes, session_id, active, candidate = setup

    class SilentBackend(ThirdPersonBackend):
        """Test double: answers nothing, so every rewrite is rejected and the draft equals the extractive one."""

        def stream_chat(self, ctx, messages, settings):
            return iter(())

    shadow = _shadow(settings, db, registry, lambda version, db_, s: SilentBackend())
    result = draft_blind_pair(JobContext(), notes, shadow, BlindSession("s"), session_id, "soap")
    assert result.pair is None and "same draft" in result.message
    assert result.active_output.model_info == {}
