"""End to end, headless: a note drafted by the embedded SmolLM2 with shadow share 1.0, the candidate run through
the real llama.cpp path, the stored shadow record checked, then scored at sign-off.

The candidate here is registered as a manifest that points at the *same* embedded GGUF (a distinct registry
version, the same weights): it exercises the mechanics of shadow mode and says nothing about which model is
better (how closely the two drafts agree depends on how much model time each got within its budget).
"""

from __future__ import annotations

import json

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.notes.drafting import DraftOptions
from medstation.store.tables import ModelKind, ShadowCase
from medstation.training.canary.outcomes import paired_cases, resolve_outcomes
from medstation.training.comparison.stats import rouge_l

pytestmark = pytest.mark.slow

TRANSCRIPT = """Therapist: What brings you in this week?
Client: My sleep has been poor and I wake up at four every morning.
Therapist: We will keep a sleep diary and review it at the next session.
Client: I walked every morning and that helped my mood a little.
"""


@pytest.fixture
def services(medstation_home, monkeypatch):
    monkeypatch.setenv("MEDSTATION_SHADOW_SHARE_NOTES", "1.0")
    from medstation.app import build_services

    s = build_services(session=UserSession(Actor("dr.admin", Role.admin)))
    yield s
    s.close()


@pytest.mark.skipif(embedded_model_path() is None, reason="the embedded SmolLM2 GGUF is not installed")
def test_shadow_draft_of_a_real_candidate_is_stored_and_scored(services, tmp_path):
    assert services.settings.shadow_share_notes == 1.0
    manifest = services.settings.models_dir / "smollm2-same-weights.json"
    manifest.write_text(json.dumps({"base_model": str(embedded_model_path()), "adapter": None}))
    candidate = services.registry.register(ModelKind.llm, "SmolLM2 (same weights, mechanics test)", manifest)

    notes = services.notes
    client = notes.create_client("E2E-1")
    session = notes.create_session(client.id, "2026-12-02")
    notes.import_transcript(session.id, TRANSCRIPT, "t.txt")
    note = notes.draft(JobContext(), session.id, "soap", DraftOptions(max_rewrites=1, budget_s=20.0))
    active_id = note.draft["provenance"]["model"]["version_id"]
    assert note.draft["provenance"]["model"]["used"] and active_id != candidate.id

    plan = services.shadow.plan(ModelKind.llm, active_id)
    assert plan is not None and plan.candidate_version_id == candidate.id
    info = services.shadow.run_notes(JobContext(), plan, note.id)
    assert info.status.value == "done", info.error
    with services.db.session() as s:
        row = s.get(ShadowCase, info.id)
        assert (row.active_version_id, row.candidate_version_id) == (active_id, candidate.id)
        assert row.active_output == note.text and row.candidate_output.startswith("SUBJECTIVE")
        provenance = row.candidate_provenance
        assert provenance["model"]["version_id"] == candidate.id and provenance["model"]["used"]
        assert provenance["generation"]["max_rewrites_per_section"] == 1
        assert row.context["note_id"] == note.id and len(row.inputs_sha256) == 64
        assert row.vs_active["rougeL"] == pytest.approx(rouge_l(row.candidate_output, row.active_output), abs=1e-5)
    assert notes.note(note.id).text == note.text  # the shadow draft was never shown

    notes.sign(note.id, note.text)
    assert resolve_outcomes(services.db) == 1
    case = paired_cases(services.db, candidate.id, active_id)[0]
    assert case["rougeL_baseline"] == pytest.approx(1.0)  # signed exactly as drafted
