"""Someone who wants to kill *himself* is at risk of suicide, not a homicide risk: the homicidal patterns
("kill him", "thoughts of killing her") must not match the start of "himself" / "herself" / "themselves".

On commit 7d7286b (helper "breaknotes") the first and the last test fail: every statement of the first raised
a *homicidal ideation* flag whose reason quoted half a word ("matched 'thoughts of killing him'"), a misleading
flag the therapist had to acknowledge as a threat to others.
"""

from __future__ import annotations

import pytest

from medstation.notes.risk import RiskStatus, detect_risks, risk_flags
from medstation.notes.transcript import parse_transcript


def _flags(text: str) -> dict:
    return {f.category: f for f in risk_flags(detect_risks(parse_transcript(text))) if f.needs_acknowledgement}


@pytest.mark.parametrize("text", [
    "Client: My brother had thoughts of killing himself last year, it scared me.",
    "Client: My mum says she wants to kill herself when the bills come.",
    "Client: The twins keep talking about killing themselves since the funeral.",
    "Client: He told me on the phone he is going to kill himself tonight.",
    "Client: She has thoughts about harming herself at night.",
])
def test_someone_killing_or_harming_themselves_is_not_a_homicide_risk(text):
    flags = _flags(text)
    assert "homicidal_ideation" not in flags, flags["homicidal_ideation"].why
    assert flags, "a relative's suicidal talk is still flagged for the clinician to weigh"


@pytest.mark.parametrize("text", [
    "Client: I keep having thoughts of killing him when he comes home drunk.",
    "Client: Some days I want to kill her for what she did to my kids.",
    "Client: I have thoughts about hurting them, the people at work.",
])
def test_killing_someone_else_stays_a_homicide_risk(text):
    flags = _flags(text)
    assert flags.get("homicidal_ideation") is not None and flags["homicidal_ideation"].status is RiskStatus.present


def test_a_relative_killing_himself_said_by_name_is_flagged_as_suicidal_ideation():
    flags = _flags("Client: My brother had thoughts of killing himself last year, it scared me.")
    assert "suicidal_ideation" in flags


def test_a_note_stating_the_risk_in_the_clinical_voice_can_be_signed(settings, db):
    """The drafted "Client reports ... killing themselves ..." states the suicidal ideation: deleting only the
    "Risk:" summary line must not block sign-off as if the note no longer stated it (it did on 7d7286b, where
    "killing themselves" read as "killing them", a homicide)."""
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.service import NotesService

    service = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    sess = service.create_session(service.create_client("C-7").id, "2026-12-01")
    service.import_transcript(sess.id, b"Therapist: How was the week?\nClient: Honestly I have been thinking about "
                              b"killing myself most nights.\nTherapist: We will make a safety plan together today.",
                              "s.txt")
    note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    service.acknowledge_risk(note.id, "suicidal_ideation", "safety plan made")
    doc = service.tracked(note.id)
    start = doc.text.index("Risk: suicidal ideation")
    doc.replace(start, doc.text.index("\n", start) + 1, "", author="dr.lee")
    assert "killing themselves" in doc.text  # the clinical-voice sentence is still there
    service.save_revision(note.id, doc)
    assert 0 <= service.sign(note.id, doc.text) <= 1
