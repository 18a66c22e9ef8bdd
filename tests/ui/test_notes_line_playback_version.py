"""Double-clicking a transcript line plays that line of the transcript version on screen.

When a note was drafted from a recording's transcript and the transcript was edited afterwards, the Notes
tab shows the version the note was drafted from (its evidence links point there). On commit 7d7286b
(helper "breaknotes") a double-click looked up the *latest* version instead: after a typed edit it said
"not transcribed from a recording", and after a second recording it played the other recording's times.
No audio is needed: the player is replaced by one that records what it was asked to play.
"""

from __future__ import annotations

from pathlib import Path

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from medstation.notes.service import NotesService
from medstation.ui.notes.tab import NotesTab
from medstation.ui.runner import JobRunner
from tests.ui.notes_world import wait_idle

RECORDED = ("[Speaker 1] How did the week go?\n[Speaker 2] I slept badly most nights and skipped the gym.\n"
            "[Speaker 1] Let us keep a sleep diary until next time.")


class _Player:
    def __init__(self) -> None:
        self.played: list[tuple[str, float, float]] = []

    def play(self, path, start: float, end: float) -> str:
        self.played.append((Path(path).name, start, end))
        return f"Playing {start}–{end}"


def test_a_double_clicked_line_plays_the_shown_version_s_recording(qtbot, settings, db, tmp_path):
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    session = notes.create_session(notes.create_client("C-001").id, "2026-12-06")
    first = tmp_path / "first.wav"
    first.write_bytes(b"RIFF")
    notes.import_recording_transcript(session.id, RECORDED, first.name, {
        "file_path": str(first), "line_times": [[0.0, 2.5], [2.5, 7.0], [7.0, 9.5]]})
    notes.draft(JobContext(), session.id, "soap", DraftOptions(use_model=False))
    notes.import_transcript(session.id, RECORDED.replace("gym", "gym twice"), "edited.txt")  # typed edit: v2

    runner = JobRunner()
    tab = NotesTab(notes, runner)
    qtbot.addWidget(tab)
    tab._line_player = player = _Player()
    try:
        tab.select_session(session.id)
        wait_idle(qtbot, runner)
        qtbot.waitUntil(lambda: tab.note is not None and tab.transcript.count() == 3)
        assert "drafted from" in tab.transcript_label.text()  # the note's version (1) is on screen
        tab.play_recording_line(tab.transcript.item(1))
        wait_idle(qtbot, runner)
        assert player.played == [("first.wav", 2.5, 7.0)], tab.status.text()
    finally:
        runner.shutdown()
