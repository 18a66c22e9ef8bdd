"""Screenshot of the Chat tab answering over a MedQuAD knowledge base (run under Xvfb).

Either uses ``--home`` (a MEDSTATION_HOME whose knowledge base is already
filled, e.g. with the shipped starter set) or copies about 300 MedQuAD rows (a
topic's rows first, then others) to a temporary file and ingests them into a
temporary MEDSTATION_HOME. Then opens the main window on the Chat tab, asks a
question, waits for the answer, clicks its first citation so the passage shows
in the side panel, and saves the window as a PNG.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_chat.py \\
        --medquad ../shared/data/medquad/medquad.jsonl --out docs/screenshots/chat.png
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


def write_subset(medquad: Path, topic: str, rows: int, out: Path) -> int:
    """``rows`` MedQuAD rows into ``out``: every row whose focus mentions ``topic``, then the first others."""
    on_topic, others = [], []
    with medquad.open() as stream:
        for line in stream:
            row = json.loads(line)
            (on_topic if topic in (row.get("focus") or "").lower() else others).append(line)
    chosen = on_topic[:rows] + others[: max(0, rows - len(on_topic))]
    out.write_text("".join(chosen))
    return len(chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medquad", default=str(ROOT.parent / "shared" / "data" / "medquad" / "medquad.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "chat.png"))
    parser.add_argument("--topic", default="asthma")
    parser.add_argument("--question", default="What are the symptoms of asthma?")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the answer")
    parser.add_argument("--work", default="", help="reuse this work folder (its knowledge base is kept)")
    parser.add_argument("--home", default="", help="use this MEDSTATION_HOME as it is (no ingestion)")
    args = parser.parse_args(argv)
    if args.home:
        return shoot_question(args, Path(args.home))

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="medstation_chat_shot_"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["MEDSTATION_HOME"] = str(work / "home")
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")
    subset = work / "medquad_subset.jsonl"
    count = write_subset(Path(args.medquad), args.topic, args.rows, subset)
    print(f"ingesting {count} MedQuAD rows from {subset}", flush=True)

    from medstation.app import build_services
    from medstation.jobs import print_progress_context

    services = build_services()
    print(services.kb.ingest_job(print_progress_context(), subset).describe(), flush=True)
    return shoot_question(args, None, services)


def shoot_question(args, home: Path | None, services=None) -> int:
    from PySide6.QtCore import QTimer, QUrl

    from medstation.app import build_services
    from medstation.ui.launch import open_workstation

    if home is not None:
        os.environ["MEDSTATION_HOME"] = str(home)
        os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")
    services = services or build_services()
    station = open_workstation(services)
    app, window = station.app, station.window
    window.select_tab("chat")
    tab = window.chat_tab
    tab.question_edit.setPlainText(args.question)
    state = {"sent": False, "waited": 0.0}

    def last_answer():
        answers = [m for m in tab.messages if m.role.value == "assistant"]
        return answers[-1] if answers else None

    def finish() -> None:
        last = last_answer()
        if last is not None:
            if last.provenance is not None and last.provenance.cited:
                tab._on_view_anchor(QUrl(f"cite:{last.id}:{last.provenance.cited[0]}"))
            print("answer:", last.status.value, last.content[:300].replace("\n", " "), flush=True)
        QTimer.singleShot(800, shoot)

    def shoot() -> None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(args.out)
        print("saved", args.out, flush=True)
        app.quit()

    def poll() -> None:
        if not state["sent"]:
            state["sent"] = True
            tab.send()
        elif tab.answer_job is None and last_answer() is not None:
            QTimer.singleShot(1500, finish)  # let the reload of the stored answer render
            return
        state["waited"] += 0.5
        if state["waited"] > args.timeout:
            print("timed out waiting for the answer", flush=True)
            shoot()
            return
        QTimer.singleShot(500, poll)

    QTimer.singleShot(2000, poll)
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
