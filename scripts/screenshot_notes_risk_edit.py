"""Screenshot: a risk statement added by a transcript edit blocks sign-off (issue 18, "risk flags stay current").

A session without any risk is drafted; then the transcript is edited (a new version with one indirect
statement, "I've started giving my things away and wrote letters to my kids, just in case"), the note is
reopened and Sign is pressed. The flag comes from the new transcript version and the sign-off is refused
until it is acknowledged. The transcript is written for this script (no real client).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_notes_risk_edit.py \\
        --out docs/screenshots/notes_risk_after_edit.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEFORE = """Therapist: How has the week been since we last met?
Client: Work was busy and I have been sleeping about five hours a night.
Therapist: How is your appetite?
Client: I skip breakfast most days but I eat dinner with my sister.
Therapist: Let's keep the sleep diary going and try the wind-down routine before bed.
Client: Okay, I can do that.
"""
ADDED = "Client: I've started giving my things away and wrote letters to my kids, just in case.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "notes_risk_after_edit.png"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="medstation_notes_risk_shot_"))
    os.environ["MEDSTATION_HOME"] = str(work / "home")
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")

    from PySide6.QtCore import QTimer

    from medstation.ui.launch import open_workstation

    station = open_workstation(size=(1600, 1000))
    app, window = station.app, station.window
    window.select_tab("notes")
    tab = window.notes_tab
    notes = tab.notes
    client = notes.create_client("C-2077")
    session = notes.create_session(client.id, "2026-12-04", duration_min=50)
    notes.import_transcript(session.id, BEFORE, "session.txt")
    tab.refresh()
    tab.select_session(session.id)
    state = {"waited": 0.0, "step": "draft"}

    def wait_until(done, then) -> None:
        def poll() -> None:
            state["waited"] += 0.5
            if done():
                state["waited"] = 0.0
                QTimer.singleShot(500, then)
            elif state["waited"] > args.timeout:
                print(f"timed out at step {state['step']}", flush=True)
                app.quit()
            else:
                QTimer.singleShot(500, poll)
        QTimer.singleShot(500, poll)

    def edit_transcript() -> None:
        state["step"] = "edit"
        print("drafted; risk flags:", [f["label"] for f in tab.note.risk_flags], flush=True)
        tab.session_actions.import_transcript(BEFORE + ADDED, "session-edited.txt")
        wait_until(lambda: "changed" in tab.transcript_label.text() and tab.note is not None, sign)

    def sign() -> None:
        state["step"] = "sign"
        tab.sign()
        wait_until(lambda: "acknowledge" in tab.status.text().lower(), shoot)

    def shoot() -> None:
        window.grab().save(args.out)
        print("saved", args.out, "|", tab.status.text(), flush=True)
        app.quit()

    QTimer.singleShot(500, tab.draft)
    wait_until(lambda: not tab.drafting and tab.note is not None, edit_transcript)
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
