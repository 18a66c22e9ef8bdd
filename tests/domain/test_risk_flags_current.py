"""Risk flags stay current: recomputed when the transcript changes; sign-off and export check the note states them.

Each test here fails on 1c99c71, where a note's flags were frozen at its first draft.
"""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from medstation.notes.export import note_plain_text
from medstation.notes.records import SignOffBlocked
from medstation.notes.service import NotesService

CALM = """Therapist: How was the week?
Client: Busy at work, but I have been sleeping better since we started the breathing practice.
Therapist: We will keep the sleep diary going until next session.
"""
GUN_QUESTION = """Therapist: Do you have a gun at home?
Client: No.
Therapist: We will keep the sleep diary going until next session.
"""
RISK = """Therapist: How was the week?
Client: Honestly I have been thinking about killing myself most nights.
Therapist: We will make a safety plan together today.
"""


@pytest.fixture
def service(settings, db):
    return NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))


def _drafted(service, text: str):
    client = service.create_client("C-100")
    sess = service.create_session(client.id, "2026-12-01")
    service.import_transcript(sess.id, text.encode(), "s.txt")
    note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    return sess, note


def _pending(service, note_id: int) -> list[str]:
    return [f["category"] for f in service.note(note_id).pending_risks]


def test_transcript_edit_that_adds_a_risk_blocks_sign_off(service):
    sess, note = _drafted(service, CALM)
    assert _pending(service, note.id) == []
    edited = CALM.replace("Busy at work", "Busy at work, and some nights I wish I could go to sleep and not wake up")
    service.import_transcript(sess.id, edited.encode(), "edited.txt")
    assert _pending(service, note.id) == ["suicidal_ideation"]
    with pytest.raises(SignOffBlocked, match="suicidal ideation"):
        service.sign(note.id, service.note(note.id).text)


def test_speaker_swap_recomputes_flags(service):
    sess, note = _drafted(service, GUN_QUESTION)
    flags = service.note(note.id).risk_flags
    assert [(f["category"], f["status"]) for f in flags if f["category"] == "lethal_means"] == [("lethal_means", "denied")]
    service.swap_speakers(sess.id)  # now the "client" says there is a gun and nobody answered no
    assert "lethal_means" in _pending(service, note.id)
    with pytest.raises(SignOffBlocked, match="lethal means"):
        service.sign(note.id, service.note(note.id).text)


def test_acknowledgement_does_not_cover_a_risk_line_added_later(service):
    sess, note = _drafted(service, RISK)
    service.acknowledge_risk(note.id, "suicidal_ideation", "safety plan made")
    assert _pending(service, note.id) == []
    more = RISK + "Client: I also bought a rope last week.\n"
    service.import_transcript(sess.id, more.encode(), "more.txt")
    assert _pending(service, note.id) == ["suicidal_ideation"]
    service.acknowledge_risk(note.id, "suicidal_ideation", "reviewed the new line")
    assert _pending(service, note.id) == []


def test_removed_risk_statement_blocks_sign_off_and_export(service):
    sess, note = _drafted(service, RISK)
    service.acknowledge_risk(note.id, "suicidal_ideation", "safety plan made")
    doc = service.tracked(note.id)
    start = doc.text.index("Risk: suicidal ideation")
    doc.replace(start, doc.text.index("\n", start) + 1, "", author="dr.lee")
    # the quote and the clinical-voice sentence ("Client reports ... killing themselves ...") both state it
    for line in [ln for ln in doc.text.splitlines() if "killing myself" in ln or "killing themselves" in ln]:
        i = doc.text.index(line)
        doc.replace(i, i + len(line) + 1, "", author="dr.lee")
    service.save_revision(note.id, doc)
    with pytest.raises(SignOffBlocked, match="no longer states the risk.*suicidal ideation"):
        service.sign(note.id, doc.text)
    with pytest.raises(UserFacingError, match="no longer states"):
        note_plain_text(service.note(note.id), service.session_info(sess.id), "C-100")
    # The clinician's own words are enough; a denial would not be.
    pos = doc.text.index("PLAN\n") + len("PLAN\n")
    doc.replace(pos, pos, "Client denies SI.\n", author="dr.lee")
    service.save_revision(note.id, doc)
    with pytest.raises(SignOffBlocked, match="no longer states"):
        service.sign(note.id, doc.text)
    doc.replace(pos, pos, "Client reports suicidal thoughts most nights; safety plan made.\n", author="dr.lee")
    service.save_revision(note.id, doc)
    assert 0 <= service.sign(note.id, doc.text) <= 1
    assert "suicidal thoughts" in note_plain_text(service.note(note.id), service.session_info(sess.id), "C-100")


def test_acknowledging_needs_a_chosen_current_flag(service):
    _, note = _drafted(service, GUN_QUESTION)
    with pytest.raises(UserFacingError, match="Choose the risk flag"):
        service.acknowledge_risk(note.id, "")
    with pytest.raises(UserFacingError, match="documented denial"):
        service.acknowledge_risk(note.id, "lethal_means")
    with pytest.raises(UserFacingError, match="no abuse flag"):
        service.acknowledge_risk(note.id, "abuse")
