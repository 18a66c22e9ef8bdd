"""Notes tab: a session recording becomes a speaker-labelled transcript (on this machine).

The dialog picks a recording, runs :func:`medstation.notes.audio.recognise.transcribe` in the
``background`` lane (progress, Cancel), shows segments as they are decoded, then the speaker
turns, which the therapist renames, merges or reassigns before saving them as the session's
next transcript version (with the recording's provenance; the save runs in the ``io`` lane).

Clicking a line plays that stretch of the recording; so does double-clicking a line of the stored
transcript in the Notes tab (:func:`play_transcript_line`, from the line times saved with it). PySide6-Essentials has no QtMultimedia, so
playback runs FFmpeg's ``ffplay`` (Debian ``ffmpeg``) in a QProcess; without it the status says
playback is not available. Speaker turns come from pauses, not from voices: the dialog says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QProcess, Qt
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QProgressBar, QPushButton, QVBoxLayout)

from medstation.errors import UserFacingError
from medstation.notes.audio import speakers as sp
from medstation.notes.audio.decode import SUFFIXES
from medstation.ui.errors import show_error

SPLIT_NOTE = ("Speaker turns are split at pauses of 1.5 s or more and alternate between two labels; there is no "
              "voice recognition. Rename, merge or reassign them before saving.")


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


class LinePlayer:
    """Plays ``start``..``end`` seconds of a recording with ``ffplay`` in a QProcess (one stretch at a time)."""

    def __init__(self, parent) -> None:
        self.process = QProcess(parent)
        self.program = shutil.which("ffplay")

    def play(self, path: Path, start: float, end: float) -> str:
        """Start playing; returns the sentence to show (why it cannot play, or what plays)."""
        if self.program is None:
            return ("Playback is not available: this build has no QtMultimedia and ffplay "
                    "(Debian package ffmpeg) is not installed.")
        if not Path(path).is_file():
            return f"The recording {path} is no longer there; it cannot be played."
        self.stop()
        self.process.start(self.program, ["-nodisp", "-autoexit", "-loglevel", "error", "-ss", f"{start:.2f}",
                                          "-t", f"{max(0.1, end - start):.2f}", str(path)])
        return f"Playing {_clock(start)}–{_clock(end)}"

    def stop(self) -> None:
        self.process.kill()
        self.process.waitForFinished(500)


class RecordingDialog(QDialog):
    """Transcribe one recording for ``session_id``; ``accepted`` once the transcript is stored."""

    def __init__(self, notes, runner, session_id: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transcribe a session recording")
        self.resize(760, 520)
        self.notes, self.runner, self.session_id = notes, runner, session_id
        self.path: Path | None = None
        self.result = None  # RecordingTranscript once done
        self.turns: tuple[sp.Turn, ...] = ()
        self.handle = None
        self.player = LinePlayer(self)

        self.file_label = QLabel("No recording chosen.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.lines = QListWidget()
        self.lines.setWordWrap(True)
        self.lines.itemClicked.connect(self.play_item)
        self.status = QLabel(SPLIT_NOTE)
        self.status.setWordWrap(True)
        self.buttons = {}
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        for key, text, slot in (("choose", "Choose recording…", self.choose), ("start", "Transcribe", self.start),
                                ("cancel", "Cancel", self.cancel)):
            self.buttons[key] = QPushButton(text)
            self.buttons[key].clicked.connect(slot)
            row.addWidget(self.buttons[key])
        row.addWidget(self.file_label, 1)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.lines, 1)
        row = QHBoxLayout()
        for key, text, slot in (("rename", "Rename speaker…", self.rename), ("merge", "Merge speakers…", self.merge),
                                ("assign", "Assign line to…", self.assign), ("save", "Save to session", self.save)):
            self.buttons[key] = QPushButton(text)
            self.buttons[key].clicked.connect(slot)
            row.addWidget(self.buttons[key])
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._enable()

    def _enable(self) -> None:
        running = self.handle is not None
        self.buttons["start"].setEnabled(self.path is not None and not running)
        self.buttons["choose"].setEnabled(not running)
        self.buttons["cancel"].setEnabled(running)
        for key in ("rename", "merge", "assign", "save"):
            self.buttons[key].setEnabled(bool(self.turns) and not running)

    # --- transcription ---------------------------------------------------------------------------

    def choose(self) -> None:
        pattern = " ".join(f"*{s}" for s in SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Session recording", "", f"Recordings ({pattern});;All files (*)")
        if path:
            self.set_path(Path(path))

    def set_path(self, path: Path) -> None:
        self.path = Path(path)
        self.file_label.setText(self.path.name)
        self._enable()

    def start(self) -> None:
        from medstation.notes.audio.model import model_for_settings
        from medstation.notes.audio.recognise import transcribe

        try:
            model = model_for_settings(self.notes.settings, "")
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return
        self.lines.clear()
        self.turns, self.result = (), None
        self.handle = self.runner.submit("background", transcribe, self.path, model, name="transcribe recording")
        self.handle.sig_progress.connect(self._on_progress)
        self.handle.sig_partial.connect(self.add_segment)
        self.handle.sig_done.connect(self.show_result)
        self.handle.sig_failed.connect(self._on_failed)
        self.handle.sig_cancelled.connect(lambda: self.status.setText("Cancelled; nothing was stored."))
        self.handle.sig_finished.connect(self._on_finished)
        self._enable()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _on_failed(self, message: str, details: str, exc=None) -> None:
        if isinstance(exc, UserFacingError):
            self.status.setText(message)
        else:
            show_error(self, "Transcription failed", message, details)

    def _on_finished(self) -> None:
        self.handle = None
        self._enable()

    def add_segment(self, seg: sp.Segment) -> None:
        """A segment as it is decoded (speakers come at the end, from the pauses)."""
        item = QListWidgetItem(f"{_clock(seg.start)}  {seg.text}")
        item.setData(Qt.ItemDataRole.UserRole, (seg.start, seg.end))
        self.lines.addItem(item)

    def show_result(self, result) -> None:
        self.result = result
        self.set_turns(result.turns)
        p = result.provenance
        self.status.setText(f"{len(result.turns)} turns, {p.get('language', '?')}, {p.get('elapsed_s', 0):.0f} s "
                            f"for {p.get('duration_s', 0):.0f} s of audio; {result.dropped} segments dropped by the "
                            f"silence/repetition guards. {SPLIT_NOTE}")

    def set_turns(self, turns) -> None:
        self.turns = tuple(turns)
        self.lines.clear()
        for i, turn in enumerate(self.turns):
            item = QListWidgetItem(f"{_clock(turn.start)}  [{turn.speaker}] {turn.text}")
            item.setData(Qt.ItemDataRole.UserRole, (turn.start, turn.end))
            item.setData(Qt.ItemDataRole.UserRole + 1, i)
            self.lines.addItem(item)
        self._enable()

    # --- speakers --------------------------------------------------------------------------------

    def _pick_speaker(self, title: str, label: str, editable: bool = False) -> str | None:
        names = sp.speakers(self.turns)
        name, ok = QInputDialog.getItem(self, title, label, names, 0, editable)
        return name.strip() if ok and name.strip() else None

    def rename(self) -> None:
        old = self._pick_speaker("Rename speaker", "Speaker to rename:")
        if old is None:
            return
        new, ok = QInputDialog.getText(self, "Rename speaker", f"New label for {old} (e.g. Therapist, Client):")
        if ok and new.strip():
            self.set_turns(sp.rename_speaker(self.turns, old, new))

    def merge(self) -> None:
        drop = self._pick_speaker("Merge speakers", "Speaker whose lines move:")
        keep = self._pick_speaker("Merge speakers", "…into speaker:") if drop else None
        if drop and keep and drop != keep:
            self.set_turns(sp.merge_speakers(self.turns, keep, drop))

    def assign(self) -> None:
        item = self.lines.currentItem()
        index = item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else None
        if index is None:
            self.status.setText("Select a line first.")
            return
        speaker = self._pick_speaker("Assign line", "Speaker of this line (or type a new one):", editable=True)
        if speaker:
            self.set_turns(sp.reassign_turn(self.turns, index, speaker))

    # --- playback and saving ---------------------------------------------------------------------

    def play_item(self, item: QListWidgetItem) -> None:
        start, end = item.data(Qt.ItemDataRole.UserRole)
        self.play(start, end)

    def play(self, start: float, end: float) -> bool:
        """Play ``start``..``end`` seconds of the recording; False (and a status line) when it cannot."""
        if self.path is None:
            return False
        message = self.player.play(self.path, start, end)
        self.status.setText(message)
        return message.startswith("Playing")

    def save(self) -> None:
        if self.result is None or not self.turns:
            return
        text = sp.to_text(self.turns)
        # where each stored line sits in the recording, so the Notes tab can play a line later
        provenance = dict(self.result.provenance, file_path=str(self.path.resolve()),
                          line_times=[[round(t.start, 2), round(t.end, 2)] for t in self.turns if t.text])
        handle = self.runner.submit("io", lambda _ctx: self.notes.import_recording_transcript(
            self.session_id, text, self.path.name, provenance), name="store transcript")
        handle.sig_done.connect(lambda _info: self.accept())
        handle.sig_failed.connect(self._on_failed)
        self.buttons["save"].setEnabled(False)

    def done(self, code: int) -> None:  # closing stops a running job and the player
        self.cancel()
        self.player.stop()
        super().done(code)


def open_recording_dialog(tab) -> None:
    """The Notes tab's "Recording…" button: transcribe, then show the stored transcript."""
    if tab.session_id is None:
        tab.status.setText("Choose a session first.")
        return
    dialog = RecordingDialog(tab.notes, tab.runner, tab.session_id, tab)
    if dialog.exec():
        tab.session_actions.reopen("Stored the transcript of the recording.")


def play_transcript_line(tab, item) -> None:
    """Notes tab: double-clicking a transcript line (or an evidence line it highlights) plays that stretch,
    when the shown transcript version was stored from a recording with its line times. The version is the
    one on screen (a note's own version when the transcript changed since), never simply the latest."""
    number = item.data(Qt.ItemDataRole.UserRole)
    transcript_id = getattr(tab, "shown_transcript_id", None)
    if tab.session_id is None or transcript_id is None:
        return

    def lookup(ctx):  # io lane: the Notes tab never reads the database on the GUI thread
        return tab.notes.transcript_recording(transcript_id)

    tab.run_io(lookup, title="Find the recording", then=lambda recording: _play_line(tab, number, recording))


def _play_line(tab, number, recording: dict) -> None:
    times, path = recording.get("line_times") or [], recording.get("file_path")
    if not path or not isinstance(number, int) or not 1 <= number <= len(times):
        tab.status.setText("This transcript version was not transcribed from a recording here: no audio to play.")
        return
    player = getattr(tab, "_line_player", None)
    if player is None:
        player = tab._line_player = LinePlayer(tab)
    start, end = times[number - 1]
    tab.status.setText(player.play(Path(path), start, end))
