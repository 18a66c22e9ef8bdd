"""Risk flags raised by a transcript changed after the note was drafted or signed say so.

The first two tests fail on commit 7d7286b (helper "breaknotes"): on a *signed* note, a risk in a transcript
version stored after signing was listed as "awaiting acknowledgement" although acknowledging is impossible there
(the button is off, the note is locked), with no word of an addendum; and on any note whose transcript changed,
the flag's "lines [2]" pointed into the latest version while the panel listed the note's older version, whose
line 2 says something else.
"""

from __future__ import annotations

from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)

RISKY = """Therapist: How was the week?
Client: Work was stressful and honestly I want to die some nights.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""


def _flag_texts(tab) -> list[str]:
    return [tab.risks.item(i).text() for i in range(tab.risks.count())]


def test_a_risk_raised_after_signing_asks_for_an_addendum_not_an_acknowledgement(qtbot, world):
    tab, notes = world.tab, world.notes
    notes.sign(world.note_a.id, notes.note(world.note_a.id).text)
    notes.import_transcript(world.sa.id, RISKY, "second.txt")  # version 2, after signing
    show_session(qtbot, world, world.sa)
    texts = _flag_texts(tab)
    assert len(texts) == 1 and "suicidal ideation" in texts[0]
    assert "awaiting acknowledgement" not in texts[0]
    assert "after signing" in texts[0] and "addendum" in texts[0].lower()
    assert "transcript version 2" in texts[0]
    assert not tab.buttons["acknowledge"].isEnabled() and tab.buttons["addendum"].isEnabled()


def test_a_flag_from_a_changed_transcript_names_the_version_its_lines_are_in(qtbot, world):
    tab, notes = world.tab, world.notes
    notes.import_transcript(world.sa.id, RISKY, "second.txt")  # the note was drafted from version 1
    show_session(qtbot, world, world.sa)
    assert "drafted from" in tab.transcript_label.text()
    texts = _flag_texts(tab)
    assert len(texts) == 1 and "awaiting acknowledgement" in texts[0]
    assert "lines [2] of transcript version 2" in texts[0]


def test_a_flag_of_the_shown_transcript_needs_no_version(qtbot, world):
    tab, notes = world.tab, world.notes
    notes.import_transcript(world.sa.id, RISKY, "second.txt")
    notes.draft(JobContext(), world.sa.id, "soap", DraftOptions(use_model=False))  # newest note, from version 2
    show_session(qtbot, world, world.sa)
    wait_idle(qtbot, world.runner)
    texts = _flag_texts(tab)
    assert len(texts) == 1 and "(lines [2]):" in texts[0] and "version" not in texts[0]
