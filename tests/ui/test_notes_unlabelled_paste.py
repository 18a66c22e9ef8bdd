"""A pasted transcript in which no line names its speaker (or none is named as therapist or client) is stored,
and the status line says so (the draft cannot tell the client's words from the therapist's) and how to fix it.

The first and the last test fail on commit 7d7286b (helper "breaknotes"): the status said only "Stored transcript
version 2.".
"""

from __future__ import annotations

from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)


def test_a_transcript_without_speaker_labels_says_so(qtbot, world):
    tab = world.tab
    show_session(qtbot, world, world.sa)
    tab.import_transcript("How was the week?\nNot great, I could not sleep.\nLet us keep a sleep diary.", "pasted.txt")
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: "Stored transcript version 2" in tab.status.text(), timeout=30_000)
    assert "No speaker was recognised" in tab.status.text() and "Edit…" in tab.status.text()


def test_a_labelled_transcript_says_nothing_more(qtbot, world):
    tab = world.tab
    show_session(qtbot, world, world.sa)
    tab.import_transcript("Therapist: How was the week?\nClient: Not great, I could not sleep.", "pasted.txt")
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: "Stored transcript version 2" in tab.status.text(), timeout=30_000)
    assert tab.status.text() == "Stored transcript version 2."


def test_named_speakers_without_roles_are_asked_to_be_relabelled(qtbot, world):
    tab = world.tab
    show_session(qtbot, world, world.sa)
    tab.import_transcript("Anna: How was the week?\nZoë: Not great, I could not sleep.", "pasted.txt")
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: "Stored transcript version 2" in tab.status.text(), timeout=30_000)
    assert "No speaker is labelled as the therapist or the client" in tab.status.text()
