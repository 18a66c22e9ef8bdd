"""Screenshot of the Notes tab's blind choice: two drafts, unlabelled, side by side (under Xvfb).

Blind preference is switched on for notes and a LoRA drafting adapter made by this app
(``--llm-candidate``) is registered as the candidate; the embedded SmolLM2 is the active
model. The tab's own Draft button runs both; the dialog is captured before anyone picks.
The built-in transcript is written for this script (no real client); ``--transcript`` takes a file.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_blind_notes.py \\
        --llm-candidate /path/lora.gguf --out docs/screenshots/notes_blind_choice.png
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRANSCRIPT = """Therapist: Welcome back. How have the last two weeks been?
Client: I have been sleeping badly for three weeks.
Client: I feel anxious at work most days.
Therapist: What happens when you wake up early?
Client: My mind races about the deadlines and I am exhausted by the afternoon.
Therapist: You appear tired today, your speech is normal and you kept good eye contact throughout.
Therapist: I think this is consistent with generalized anxiety with worsening sleep over this month.
Client: The breathing exercise helps a bit.
Therapist: We will keep working on the worry log and I want you to practice the breathing every night.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm-candidate", required=True, help="a LoRA adapter (or GGUF model) made by this app")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "notes_blind_choice.png"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for both drafts")
    parser.add_argument("--transcript", default="", help="a transcript file instead of the built-in one (e.g. an "
                                                         "aci-bench dialogue, CC BY 4.0)")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="medstation_blind_shot_")) / "home"
    os.environ["MEDSTATION_HOME"] = str(home)
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")
    os.environ.setdefault("MEDSTATION_KB_STARTER", "false")  # no knowledge-base ingestion competing for the CPU
    os.environ["MEDSTATION_BLIND_PREFERENCE_NOTES"] = "true"

    from PySide6.QtCore import QTimer

    from medstation.store.tables import ModelKind
    from medstation.ui.launch import open_workstation

    station = open_workstation(size=(1600, 1000))
    app, window = station.app, station.window
    tab = window.notes_tab
    target = Path(tab.notes.settings.models_dir) / "finetuned" / Path(args.llm_candidate).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(args.llm_candidate, target)
    tab.notes.llm.registry.register(ModelKind.llm, "LoRA drafting adapter (run 1)", target, source="fine-tuned")
    window.select_tab("notes")
    client = tab.notes.create_client("C-1042")
    session = tab.notes.create_session(client.id, "2026-11-30", duration_min=50)
    text = Path(args.transcript).read_text(encoding="utf-8") if args.transcript else TRANSCRIPT
    tab.notes.import_transcript(session.id, text, Path(args.transcript).name if args.transcript else "session.txt")
    tab.refresh()
    tab.select_session(session.id)
    state = {"waited": 0.0}

    def poll() -> None:
        dialog = tab.candidates.dialog
        if dialog is not None and dialog.isVisible():
            QTimer.singleShot(800, lambda: shoot(dialog))
            return
        if tab.note is not None:  # stored without a choice: equal drafts, or the candidate could not draft
            print(f"no blind choice shown: {tab.status.text()}", flush=True)
            app.quit()
            return
        state["waited"] += 0.5
        if state["waited"] > args.timeout:
            print(f"no blind choice after {args.timeout:.0f} s: {tab.status.text()}", flush=True)
            app.quit()
            return
        QTimer.singleShot(500, poll)

    def shoot(dialog) -> None:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        dialog.resize(1400, 760)
        dialog.grab().save(str(out))
        print(f"saved {out}", flush=True)
        dialog.buttons["A"].click()  # a choice ends the dialog; this one is only for the picture
        app.quit()

    tab.draft()
    QTimer.singleShot(500, poll)
    app.exec()
    station.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
