"""Screenshot of the Notes tab: a drafted note with evidence highlighting, AI/human colouring after an edit,
and a risk flag awaiting acknowledgement (run under Xvfb).

The session transcript below is written for this script (no real client). The
note is drafted with the default model through the tab's own Draft button.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_notes.py \\
        --out docs/screenshots/notes.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRANSCRIPT = """Therapist: Welcome back. How have the last two weeks been?
Client: Honestly pretty rough. I have been feeling anxious at work most days and I wake up at four in the morning.
Therapist: What happens when you wake up that early?
Client: My mind races about the deadlines and I can't get back to sleep, so I am exhausted by the afternoon.
Client: Some nights when the panic gets bad I think everyone would be better off without me.
Therapist: Thank you for telling me. Have you made any plan or done anything to hurt yourself?
Client: No, I haven't hurt myself and I don't have a plan, it's more a feeling that comes and goes.
Therapist: You appear tired today, your speech is normal and you kept good eye contact throughout.
Therapist: I think this is consistent with generalized anxiety with worsening sleep over this month.
Therapist: Let's try the breathing exercise we practiced, four counts in and six counts out.
Client: That helps a bit, I feel calmer when I slow down like that.
Therapist: We will keep working on the worry log and I want you to practice the breathing every night.
Therapist: We will also review the safety plan together and I will see you next week.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "notes.png"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the draft")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="medstation_notes_shot_"))
    os.environ["MEDSTATION_HOME"] = str(work / "home")
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")

    from PySide6.QtCore import QTimer

    from medstation.ui.launch import open_workstation

    station = open_workstation(size=(1600, 1000))
    app, window = station.app, station.window
    window.select_tab("notes")
    tab = window.notes_tab
    notes = tab.notes
    client = notes.create_client("C-1042")
    session = notes.create_session(client.id, "2026-11-30", duration_min=50)
    notes.import_transcript(session.id, TRANSCRIPT, "session.txt")
    tab.refresh()
    tab.select_session(session.id)
    state = {"waited": 0.0}

    def after_draft() -> None:
        ed = tab.editor
        text = ed.toPlainText()
        cursor = ed.textCursor()
        at = text.find("practice the breathing")
        if at >= 0:  # a human edit inside an AI sentence
            cursor.setPosition(at + len("practice the "))
            ed.setTextCursor(cursor)
            ed.insertPlainText("4-6 ")
        end = ed.toPlainText().find("\n\nPLAN")
        if end >= 0:  # a sentence the clinician wrote
            cursor.setPosition(end)
            ed.setTextCursor(cursor)
            ed.insertPlainText("\nClient engaged well and agreed to the plan.")
        target = ed.toPlainText().find("consistent with")
        cursor.setPosition(max(0, target))
        ed.setTextCursor(cursor)  # highlights the evidence line in the transcript
        QTimer.singleShot(800, shoot)

    def shoot() -> None:
        window.grab().save(args.out)
        print("saved", args.out, "|", tab.status.text(), flush=True)
        app.quit()

    def poll() -> None:
        state["waited"] += 0.5
        if not tab.drafting and tab.note is not None:  # the stored draft is shown
            QTimer.singleShot(300, after_draft)
        elif state["waited"] > args.timeout:
            print("draft did not finish in time", flush=True)
            app.quit()
        else:
            QTimer.singleShot(500, poll)

    QTimer.singleShot(500, tab.draft)
    QTimer.singleShot(1500, poll)
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
