"""The LLM half of the self-learning loop, headless and small: an aci-bench-format CSV → notes dataset → a
few-step LoRA adapter trained in a child ``train-worker`` → A/B against the active SmolLM2 through the real
Notes pipeline → the promotion gate → (forced, audited) promotion → the Notes tab's drafting path uses the
adapter → roll back → it uses the base model again."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.store.tables import ModelKind, NoteRevision

pytestmark = pytest.mark.slow

VISITS = [
    ("my knee hurts when i climb stairs", "Right knee pain on stairs."),
    ("i have had a cough for two weeks , worse at night", "Two weeks of nocturnal cough."),
    ("i feel dizzy when i stand up quickly", "Orthostatic dizziness."),
    ("my headaches come every afternoon at work", "Daily afternoon headaches at work."),
    ("i get short of breath walking up the hill", "Exertional dyspnoea on inclines."),
    ("my lower back aches after gardening", "Low back pain after gardening."),
    ("i wake up at three every night and cannot sleep", "Early waking insomnia."),
    ("my ankle swelled after the football match", "Ankle swelling after football."),
]


def _csv(path: Path) -> tuple[Path, int]:
    """An aci-bench-format CSV whose encounters fall 2 in test and the rest elsewhere (the split is a key hash)."""
    from medstation.training.datasets.splits import public_case_key, split_of

    chosen, n_test, k = [], 0, 0
    while len(chosen) < 6 or n_test < 2:
        split = split_of(public_case_key(f"aci-bench:synthetic:E{k}"))
        if split != "test" or n_test < 2:
            chosen.append((f"E{k}", split))
            n_test += split == "test"
        k += 1
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "encounter_id", "dialogue", "note"])
        for n, (eid, _) in enumerate(chosen):
            complaint, summary = VISITS[n % len(VISITS)]
            dialogue = (f"[doctor] hello , what brings you in today ?\n[patient] {complaint} .\n"
                        f"[doctor] how long has this been going on ?\n[patient] about {n + 2} weeks now .\n"
                        "[doctor] we will examine you and plan the next steps .")
            note = (f"CHIEF COMPLAINT\n\n{summary}\n\nHISTORY OF PRESENT ILLNESS\n\n{summary} "
                    f"for about {n + 2} weeks.\n\nPLAN\n\nExamination and follow-up.")
            writer.writerow(["synthetic", eid, dialogue, note])
    return path, n_test


@pytest.fixture
def services(medstation_home):
    from medstation.app import build_services

    s = build_services(session=UserSession(Actor("admin", Role.admin)))
    yield s
    s.close()


@pytest.mark.timeout(2400)  # 21 min at load 12 on 2 shared cores; a few minutes when quiet
def test_lora_candidate_ab_gate_promote_notes_use_it_rollback(services, tmp_path, monkeypatch):
    from medstation.notes.drafting import DraftOptions
    from medstation.training.comparison.notes import PipelineDrafter

    training = services.training
    base_id = services.llm.model_version_id()  # the embedded SmolLM2, registered and active
    assert services.registry.active(ModelKind.llm).id == base_id
    csv_path, n_test = _csv(tmp_path / "visits.csv")
    version = training.import_aci_csv(JobContext(), csv_path)
    assert version.split_counts.get("test") == n_test == 2

    run = training.queue_llm(version.id, epochs=1, rank=2, max_tokens=128, max_steps=2)
    result = training.run_queued(JobContext(), run.id)  # a child `train-worker` process
    candidate = services.registry.get(result["model_version_id"])
    assert candidate.status.value == "candidate" and candidate.parent_id == base_id and candidate.meta["adapter"]

    with pytest.raises(UserFacingError, match=f"#{candidate.id} cannot be promoted without force: it has not been "
                                              "compared"):
        training.promote(candidate.id)
    # The real Notes pipeline drafts; a small model budget keeps 2 models x (2 test + 5 golden) drafts short.
    monkeypatch.setattr(training, "notes_drafter", lambda v: PipelineDrafter.for_version(
        services.db, services.settings, v.id, options=DraftOptions(max_rewrites=1, budget_s=6.0)))
    comparison_id, ab = training.compare(JobContext(), candidate.id)
    assert ab.kind == "llm" and ab.baseline_id == base_id and ab.overall["rougeL"]["n"] == 2
    assert ab.golden["rougeL"]["n"] == 5 and set(ab.groups) == {"clinical note"}
    assert not any("fell back" in note for note in ab.notes)  # both models really drafted
    assert not ab.recommend_promote
    assert "clinical note: only 2 held-out cases; at least 20 per template are needed" in ab.reason
    with pytest.raises(UserFacingError, match="advises against"):
        training.promote(candidate.id)

    training.promote(candidate.id, force=True, reason="e2e: too few held-out cases to decide")
    assert services.llm.model_version_id() == candidate.id
    assert services.llm.backend().describe()["adapter"] == Path(candidate.path).name
    notes = services.notes
    client = notes.create_client("E2E-1")
    session = notes.create_session(client.id, "2026-12-02")
    notes.import_transcript(session.id, "[doctor] how are you sleeping ?\n[patient] badly , i wake at three every "
                                        "night and cannot get back to sleep .\n[doctor] let's keep a sleep diary .",
                            "t.txt")
    note = notes.draft(JobContext(), session.id, "soap", DraftOptions(max_rewrites=1, budget_s=6.0))
    from sqlmodel import select

    with services.db.session() as s:
        provenance = s.exec(select(NoteRevision).where(NoteRevision.note_id == note.id)).first().provenance
    assert json.dumps(provenance["provenance"]["model"]).count(f'"version_id": {candidate.id}') == 1

    training.rollback("llm", reason="e2e")
    assert services.registry.active(ModelKind.llm).id == base_id and services.llm.model_version_id() == base_id
    assert services.llm.backend().describe().get("adapter") is None
    actions = [a for (a,) in services.db.engine.connect().exec_driver_sql("select action from audit_event")]
    for expected in ("training.enqueue", "model.compare", "admin.promote", "admin.rollback"):
        assert expected in actions
