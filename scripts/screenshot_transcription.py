"""Screenshot: a session recording transcribed into speaker turns, one line playing, and a note drafted
from the transcript (run under Xvfb).

The recording is synthesised with espeak-ng from the dev half of
``tests/data/transcription_sessions.json`` (no real client). The Recording dialog transcribes it
with the bundled Whisper base model, the speakers are renamed Therapist/Client, the transcript is
stored with its provenance, the Notes tab drafts from it, and a transcript line is clicked so
ffplay plays it (SDL's dummy audio driver under Xvfb). The window and the dialog are saved side
by side in one image.

    xvfb-run -a -s "-screen 0 2400x1000x24" .venv/bin/python scripts/screenshot_transcription.py \\
        --out docs/screenshots/notes_transcription.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "notes_transcription.png"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each job")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="medstation_transcription_shot_"))
    os.environ["MEDSTATION_HOME"] = str(work / "home")
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # ffplay "plays" without a sound card under Xvfb

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QColor, QPainter, QPixmap

    from medstation.notes.audio import speakers as sp
    from medstation.ui.launch import open_workstation
    from medstation.ui.notes.audio_panel import RecordingDialog
    from tests.audio_support import build_recording

    turns = [tuple(t) for t in json.loads((ROOT / "tests" / "data" / "transcription_sessions.json").read_text())["dev"]]
    rec = build_recording(work / "session_2026-12-06.wav", turns, [2.5] * len(turns), noise_dbfs=-60)

    station = open_workstation(size=(1400, 950))
    app, window = station.app, station.window
    window.select_tab("notes")
    tab = window.notes_tab
    notes = tab.notes
    session = notes.create_session(notes.create_client("C-1042").id, "2026-12-06", duration_min=50)
    tab.refresh()
    tab.select_session(session.id)
    dialog = RecordingDialog(notes, tab.runner, session.id, window)
    dialog.resize(900, 950)
    dialog.move(1410, 0)
    dialog.show()
    dialog.set_path(rec.path)
    state = {"waited": 0.0}

    def wait(cond, then) -> None:
        state["waited"] += 0.5
        if cond():
            QTimer.singleShot(300, then)
        elif state["waited"] > args.timeout:
            print("timed out", flush=True)
            app.quit()
        else:
            QTimer.singleShot(500, lambda: wait(cond, then))

    def transcribed() -> None:
        relabelled = sp.rename_speaker(sp.rename_speaker(dialog.turns, "Speaker 1", "Therapist"), "Speaker 2", "Client")
        dialog.set_turns(relabelled)
        # stored here directly (the dialog's Save would close it; the screenshot keeps it open)
        notes.import_recording_transcript(session.id, sp.to_text(relabelled), rec.path.name, dialog.result.provenance)
        tab._show_transcript()
        state["waited"] = 0.0
        tab.draft()
        wait(lambda: getattr(tab, "draft_handle", None) is not None and tab.draft_handle.finished
             and tab.note is not None, drafted)

    def drafted() -> None:
        item = dialog.lines.item(3)
        dialog.lines.setCurrentItem(item)
        dialog.play_item(item)
        QTimer.singleShot(600, shoot)

    def shoot() -> None:
        left, right = window.grab(), dialog.grab()
        canvas = QPixmap(left.width() + right.width() + 10, max(left.height(), right.height()))
        canvas.fill(QColor("#555555"))
        painter = QPainter(canvas)
        painter.drawPixmap(0, 0, left)
        painter.drawPixmap(left.width() + 10, 0, right)
        painter.end()
        canvas.save(args.out)
        print("saved", args.out, "|", dialog.status.text(), "|", tab.status.text(), flush=True)
        app.quit()

    QTimer.singleShot(300, dialog.start)
    QTimer.singleShot(1000, lambda: wait(lambda: dialog.result is not None, transcribed))
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
