"""Screenshot of the Notes tab: a session with a signed note and a newer draft, both listed (run under Xvfb).

The transcript is written for this script (no real client). The first note is drafted (extractive, no
model), acknowledged and signed; then "Draft note" is pressed again, answered "Yes" to the question
that the session already has a note, and the new draft is shown with the signed note still listed.
A second picture shows the signed note opened from the list.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_notes_history.py \\
        --out docs/screenshots/notes_signed_and_draft.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRANSCRIPT = """Therapist: How have the last two weeks been?
Client: I have been sleeping about four hours a night and I wake up at three most mornings.
Client: I stopped the sertraline last week without telling Dr. Patel because it made me feel flat.
Therapist: Thank you for telling me. Let's practise the four-six breathing together now.
Client: That helps a bit, I feel calmer when I slow down.
Therapist: Please call Dr. Patel this week about the sertraline and keep a sleep diary until we meet on Friday.
"""


def _settle(app, until, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "notes_signed_and_draft.png"))
    args = parser.parse_args(argv)
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="medstation_notes_history_")
    os.environ["MEDSTATION_KB_STARTER"] = "false"

    from PySide6.QtWidgets import QApplication, QMessageBox

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.config import Settings
    from medstation.jobs import JobContext
    from medstation.notes.service import NotesService
    from medstation.access.encryption import open_database
    from medstation.ui.notes.tab import NotesTab
    from medstation.ui.runner import JobRunner

    app = QApplication.instance() or QApplication([])
    settings = Settings()
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    client = notes.create_client("C-1042")
    session = notes.create_session(client.id, "2026-11-30")
    notes.import_transcript(session.id, TRANSCRIPT, "session.txt")
    first = notes.draft(JobContext(), session.id, "soap")
    for flag in first.pending_risks:
        notes.acknowledge_risk(first.id, flag["category"])
    notes.sign(first.id, notes.note(first.id).text)

    runner = JobRunner()
    tab = NotesTab(notes, runner)
    tab.resize(1600, 1000)
    tab.show()
    tab.select_session(session.id)
    _settle(app, lambda: tab.note is not None and not runner.active())
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)  # "Draft another note?"
    tab.draft()
    _settle(app, lambda: not tab.drafting and tab.note is not None and tab.note.id != first.id
            and not runner.active())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.grab().save(str(out))
    print("saved", out, "| listed:", [tab.note_list.item(i).text() for i in range(tab.note_list.count())])
    tab.note_list.setCurrentRow(0)  # the signed note, opened from the list
    _settle(app, lambda: tab.note is not None and tab.note.id == first.id and not runner.active())
    signed = out.with_name(out.stem + "_signed_opened.png")
    tab.grab().save(str(signed))
    print("saved", signed, "|", tab.status.text())
    runner.shutdown()
    db.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
