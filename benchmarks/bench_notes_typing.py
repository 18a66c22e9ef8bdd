"""Benchmark: GUI-thread stalls while typing in the Notes tab with autosave on (target p95 < 16 ms).

A note is drafted (extractive, no model) from one aci-bench visit (``--csv``, default the shared
``valid.csv``; without it, a built-in 60-turn session) and opened in a real ``NotesTab`` with its real
1-second autosave timer and a real database under a temporary home. A second thread posts key presses
to the editor at ``--rate`` characters per second (``QCoreApplication.postEvent`` is thread-safe); the
GUI thread runs its normal event loop. The latency of a key is the time from its posting to the moment
its change is in the editor's tracked document. A key that arrives while the GUI thread is busy (an
autosave writing to the database, recolouring) waits, so the latency is the stall a typist feels.

Run the same script against another checkout with ``--code`` (e.g. the code before the change)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_notes_typing.py [--code /path/to/checkout]

Prints the number of keys and autosaves, p50/p95/p99/max latency in ms and the load average.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
DEFAULT_CSV = next((p / "shared" / "data" / "aci-bench" / "valid.csv" for p in (ROOT.parent, ROOT.parent.parent)
                    if (p / "shared" / "data" / "aci-bench" / "valid.csv").exists()),
                   ROOT.parent / "shared" / "data" / "aci-bench" / "valid.csv")
TYPED = "Client described the week in more detail; we reviewed the sleep diary together. "


def _transcript(csv_path: Path, row: int) -> str:
    if csv_path.exists():
        with csv_path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))[row]["dialogue"]
    turns = []
    for i in range(30):
        turns.append(f"Therapist: How did day {i + 1} of the week go, and how did you sleep that night?")
        turns.append(f"Client: I slept about {4 + i % 4} hours and woke at 3 a.m.; work was stressful on day {i + 1}.")
    return "\n".join(turns)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose medstation package is measured")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="aci-bench CSV with a 'dialogue' column")
    parser.add_argument("--row", type=int, default=2, help="which visit of the CSV")
    parser.add_argument("--keys", type=int, default=400, help="characters typed")
    parser.add_argument("--rate", type=float, default=20.0, help="characters per second")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    home = tempfile.mkdtemp(prefix="bench_notes_typing_")
    atexit.register(shutil.rmtree, home, True)  # a throw-away data folder per run: do not leave one behind each time
    os.environ["MEDSTATION_HOME"] = home
    os.environ["MEDSTATION_KB_STARTER"] = "false"

    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer
    from PySide6.QtGui import QKeyEvent, QTextCursor
    from PySide6.QtWidgets import QApplication

    import medstation
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
    notes = NotesService(settings, db, UserSession(Actor("dr.bench", Role.therapist)))
    client = notes.create_client("BENCH-1")
    session = notes.create_session(client.id, "2026-12-06")
    notes.import_transcript(session.id, _transcript(args.csv, args.row), "visit.txt")
    note = notes.draft(JobContext(), session.id, "soap")
    runner = JobRunner()
    tab = NotesTab(notes, runner)
    tab.resize(1400, 900)
    tab.show()
    tab.select_session(session.id)
    deadline = time.monotonic() + 30
    while (tab.note is None or not tab.editor.toPlainText()) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    editor = tab.editor
    editor.moveCursor(QTextCursor.MoveOperation.End)
    editor.setFocus()
    start_len = len(editor.doc.text)

    autosaves = []
    real_autosave = notes.autosave

    def counted_autosave(*a, **k):
        autosaves.append(time.perf_counter())
        return real_autosave(*a, **k)

    notes.autosave = counted_autosave
    posted: list[float] = []
    changed: list[float] = []
    cpu: list[float] = []  # GUI-thread CPU seconds per key, from the key event to the tracked edit
    started = {"cpu": 0.0}

    class KeyClock(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt naming)
            if event.type() == QEvent.Type.KeyPress:
                started["cpu"] = time.thread_time()
            return False

    clock = KeyClock()
    editor.installEventFilter(clock)

    def edited() -> None:
        changed.append(time.perf_counter())
        cpu.append(time.thread_time() - started["cpu"])

    editor.sig_edited.connect(edited)  # emitted after the tracked document took the key
    ticks: list[float] = []  # GUI-thread wall seconds of each autosave timer tick
    tab.autosave_timer.timeout.disconnect()

    def timed_tick() -> None:
        t0 = time.perf_counter()
        tab._autosave()
        ticks.append(time.perf_counter() - t0)

    tab.autosave_timer.timeout.connect(timed_tick)
    text = (TYPED * (args.keys // len(TYPED) + 1))[: args.keys]

    def typist() -> None:
        gap = 1.0 / args.rate
        nxt = time.perf_counter() + 0.5
        for ch in text:
            while time.perf_counter() < nxt:
                time.sleep(0.0005)
            posted.append(time.perf_counter())
            QCoreApplication.postEvent(editor, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, ch))
            QCoreApplication.postEvent(editor, QKeyEvent(QEvent.Type.KeyRelease, 0, Qt.KeyboardModifier.NoModifier, ch))
            nxt += gap

    worker = threading.Thread(target=typist, daemon=True)
    worker.start()
    end = time.monotonic() + 0.5 + args.keys / args.rate + 10
    loop = QEventLoop()  # the GUI thread sleeps in Qt's dispatcher and wakes for each posted key, as in the app

    def check() -> None:
        if (not worker.is_alive() and len(changed) >= len(posted)) or time.monotonic() > end:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(50)
    loop.exec()
    timer.stop()
    QTimer.singleShot(1500, loop.quit)  # let the last autosave land
    loop.exec()
    runner.shutdown()
    typed_ok = editor.doc.text[start_len:] == text and editor.toPlainText() == editor.doc.text
    lat = sorted(1000 * (c - p) for p, c in zip(posted, changed))
    q = statistics.quantiles(lat, n=100)
    source = f"{args.csv} row {args.row}" if args.csv.exists() else "built-in 60-turn session"
    print(f"code: {Path(medstation.__file__).parents[1]}; transcript: {source}")
    print(f"note {note.id}: {start_len} characters, {len(editor.doc.spans)} spans; typed {len(lat)} keys at "
          f"{args.rate:.0f}/s, all in the tracked document: {typed_ok}; autosaves during typing: {len(autosaves)}")
    print(f"key latency ms: p50 {q[49]:.2f}  p95 {q[94]:.2f}  p99 {q[98]:.2f}  max {lat[-1]:.2f}  "
          f"(keys over 16 ms: {sum(1 for x in lat if x > 16)})")
    c = sorted(1000 * x for x in cpu)
    qc = statistics.quantiles(c, n=100)
    saves = [1000 * t for t, n in zip(ticks, range(len(ticks)))]
    print(f"GUI-thread CPU per key ms: p50 {qc[49]:.2f}  p95 {qc[94]:.2f}  max {c[-1]:.2f}")
    print(f"autosave timer ticks on the GUI thread: {len(saves)}, wall ms mean {statistics.mean(saves):.2f}  "
          f"max {max(saves):.2f}")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    db.close()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt objects (a PySide6 shutdown crash says nothing about typing)


if __name__ == "__main__":
    main()
