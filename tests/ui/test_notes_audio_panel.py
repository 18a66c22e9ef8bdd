"""Notes tab "Recording…": a real transcription of espeak-ng speech streamed into the dialog, speakers
renamed, saved as the session's transcript with provenance; line playback and its absence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QProcess

from medstation.access.roles import Actor, Role, UserSession
from medstation.notes.service import NotesService
from medstation.ui.notes.audio_panel import LinePlayer, RecordingDialog
from medstation.ui.notes.tab import NotesTab
from medstation.ui.runner import JobRunner
from tests.audio_support import HAVE_ESPEAK, build_recording

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng (Debian) is installed by scripts/setup.sh")]
SESSIONS = json.loads((Path(__file__).resolve().parents[1] / "data" / "transcription_sessions.json").read_text())


@pytest.fixture
def tab(qtbot, settings, db):
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    session = notes.create_session(notes.create_client("C-001").id, "2026-12-06")
    runner = JobRunner()
    widget = NotesTab(notes, runner)
    qtbot.addWidget(widget)
    widget.select_session(session.id)
    yield widget
    runner.shutdown()


def test_recording_streams_is_relabelled_and_stored_with_provenance(qtbot, tab, tmp_path):
    rec = build_recording(tmp_path / "s.wav", [tuple(t) for t in SESSIONS["dev"][:3]], [3.0, 3.0, 0.5])
    dialog = RecordingDialog(tab.notes, tab.runner, tab.session_id, tab)
    qtbot.addWidget(dialog)
    dialog.set_path(rec.path)
    streamed = []
    dialog.start()
    dialog.handle.sig_partial.connect(streamed.append)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=180_000)
    assert streamed, "segments reach the dialog while decoding"
    assert [t.speaker for t in dialog.turns] == ["Speaker 1", "Speaker 2", "Speaker 1"]
    assert dialog.lines.count() == 3 and dialog.lines.item(1).text().startswith("00:")

    from medstation.notes.audio import speakers as sp
    dialog.set_turns(sp.rename_speaker(dialog.turns, "Speaker 1", "Therapist"))
    assert "[Therapist]" in dialog.lines.item(0).text()

    dialog.player.program = None
    assert not dialog.play(0.0, 1.0) and "not available" in dialog.status.text()
    dialog.player.program = shutil.which("true")  # a stand-in player: the call and its arguments are what matter
    assert dialog.play_item(dialog.lines.item(1)) is None and "Playing" in dialog.status.text()
    args = dialog.player.process.arguments()
    assert args[-1] == str(rec.path) and float(args[args.index("-ss") + 1]) == pytest.approx(dialog.turns[1].start, abs=0.01)
    dialog.player.process.waitForFinished(2000)
    assert dialog.player.process.state() == QProcess.ProcessState.NotRunning

    with qtbot.waitSignal(dialog.accepted, timeout=30_000):
        dialog.save()
    info, transcript = tab.notes.latest_transcript(tab.session_id)
    assert info.source_format == "audio" and transcript.lines[0].speaker == "Therapist"
    assert tab.notes.transcript_recording(info.id)["file_name"] == "s.wav"

    # the stored transcript in the tab: double-clicking line 2 plays the second turn's stretch
    tab.open_session(tab.session_id)  # the tab reads the database in its io lane
    qtbot.waitUntil(lambda: tab.transcript.count() >= 2, timeout=30_000)
    tab._line_player = LinePlayer(tab)
    tab._line_player.program = shutil.which("true")
    tab.play_recording_line(tab.transcript.item(1))
    qtbot.waitUntil(lambda: tab.status.text().startswith("Playing"), timeout=30_000)
    args = tab._line_player.process.arguments()
    assert float(args[args.index("-ss") + 1]) == pytest.approx(dialog.turns[1].start, abs=0.01)
    tab._line_player.process.waitForFinished(2000)
    # a typed transcript has no audio: the tab says so
    tab.notes.import_transcript(tab.session_id, "Therapist: hi\nClient: hello\n", "t.txt")
    tab.open_session(tab.session_id)
    qtbot.waitUntil(lambda: tab.transcript.count() == 2, timeout=30_000)
    tab.play_recording_line(tab.transcript.item(0))
    qtbot.waitUntil(lambda: "no audio to play" in tab.status.text(), timeout=30_000)


def test_cancel_leaves_nothing_stored(qtbot, tab, tmp_path):
    rec = build_recording(tmp_path / "c.wav", [tuple(t) for t in SESSIONS["dev"][:4]], [2.5] * 4)
    dialog = RecordingDialog(tab.notes, tab.runner, tab.session_id, tab)
    qtbot.addWidget(dialog)
    dialog.set_path(rec.path)
    dialog.start()
    with qtbot.waitSignal(dialog.handle.sig_finished, timeout=180_000):
        dialog.cancel()
    assert dialog.result is None and dialog.buttons["start"].isEnabled()
    with pytest.raises(Exception, match="no transcript"):
        tab.notes.latest_transcript(tab.session_id)
