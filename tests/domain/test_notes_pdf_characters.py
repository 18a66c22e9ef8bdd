"""A note exported as PDF shows every character as written, or is refused with the characters named; it is
never silently changed ("?" in place of a letter, in a clinical document).

The first two tests fail on commit 7d7286b (helper "breaknotes"): Helvetica (Latin-1) was the only font and
every other character was replaced by "?", so "Łucja" went out as "?ucja" and "李明" as "??", with no word.
"""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.notes import export
from medstation.notes.drafting import DraftOptions
from medstation.notes.service import NotesService


def _note_saying(settings, db, words: str, client: str = "C-9"):
    service = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    sess = service.create_session(service.create_client(client).id, "2026-12-01")
    service.import_transcript(sess.id, "Therapist: How was the week?\nClient: Busy at work, I slept better.", "a.txt")
    note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    doc = service.tracked(note.id)
    doc.replace(len(doc.text), len(doc.text), words, author="dr.lee")
    service.save_revision(note.id, doc)
    return service, service.note(note.id), service.session_info(sess.id)


def test_letters_beyond_latin1_reach_the_pdf_in_a_unicode_font(settings, db):
    if export._unicode_font() is None:
        pytest.skip("no Unicode font installed (Debian fonts-dejavu-core); the refusal test covers this machine")
    _, note, session = _note_saying(settings, db, "Sister Łucja and Mr Ørsted attended.")
    data = export.pdf_bytes(note, session, "C-9")
    assert data.startswith(b"%PDF") and b"/FontFile2" in data  # an embedded TrueType font, not Helvetica


def test_characters_no_font_here_can_show_are_refused_by_name(settings, db, monkeypatch):
    _, note, session = _note_saying(settings, db, "Her mother 李明 called.")
    with pytest.raises(UserFacingError, match="李.*Export text"):
        export.pdf_bytes(note, session, "C-9")
    monkeypatch.setattr(export, "UNICODE_FONTS", ())  # a machine without any Unicode font: Helvetica only
    _, note2, session2 = _note_saying(settings, db, " Sister Łucja attended.", client="C-10")
    with pytest.raises(UserFacingError, match="Ł"):
        export.pdf_bytes(note2, session2, "C-9")


def test_latin1_and_typographic_text_still_exports_without_a_unicode_font(settings, db, monkeypatch):
    monkeypatch.setattr(export, "UNICODE_FONTS", ())
    _, note, session = _note_saying(settings, db, " Café – “fine” … Zoë.")
    assert export.pdf_bytes(note, session, "C-9").startswith(b"%PDF")
