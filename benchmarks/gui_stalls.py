"""Benchmark: how long the GUI thread is blocked by Notes autosave, Admin promote / rollback, segmentation
accept and the idle lock (lock, unlock), measured on the real widgets (offscreen) over a populated store.

The store: a temporary ``MEDSTATION_HOME`` with ``--audit`` audit events, a model registry of ``--versions``
segmentation versions plus one candidate per promotion, a finished 30-epoch training run with curves, a SOAP
note drafted (extractively) from a 30-line transcript and a synthetic CT series. The account is hashed with the
product's argon2 parameters (an unlock checks a real password).

How a stall is measured: a ``QTimer`` heartbeat (5 ms, precise) records when the GUI thread gets to run.
One *event* is one user action (one autosave tick, one click on Force promote, ...), from the moment its
slot is entered until every job it started has finished and its results were shown. The event's stall is
the longest heartbeat gap in that window minus the 5 ms period: the longest time the window could not
repaint or take a key. Per event kind the script prints p50 / p95 / max of those stalls over ``--n`` events
(and p95 of the time spent inside the triggering slot itself).

Two modes: ``quiet`` (nothing else touches the database) and ``contended`` (a second process, as a training
worker does, takes the database's write lock for 150 ms every 400 ms): a GUI-thread write waits for it.

Before/after in one run (the old code as a git worktree, e.g. ``git worktree add /tmp/base_ba9 ba9a5bd``)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_stalls.py --tree before=/tmp/base_ba9 --tree after=.

Each tree runs in its own child process with ``PYTHONPATH`` pointing at it (the child prints which
``medstation`` it imported); trees alternate per mode so they share the machine's load.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HEARTBEAT_MS = 5
PASSWORD = "Quarry-velvet-trombone-47"
EVENTS = ("notes_autosave", "admin_promote", "admin_rollback", "seg_accept", "idle_lock", "idle_unlock")


# --- machine -------------------------------------------------------------------------------------

def machine() -> dict:
    """CPU model, the flags that matter for numpy/onnx speed, core count and the load average."""
    model, flags = platform.processor() or "", []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in have]
                break
    except OSError:
        pass
    return {"cpu": model, "flags": flags, "cores": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


# --- the child: one tree, one mode -----------------------------------------------------------------

def _lock_holder(db_path: Path) -> subprocess.Popen:
    """A second process that holds the database's write lock 150 ms of every 400 ms (like a worker's commits)."""
    code = ("import sqlite3,sys,time\n"
            "con=sqlite3.connect(sys.argv[1],timeout=30,isolation_level=None)\n"
            "con.execute('CREATE TABLE IF NOT EXISTS bench_lock(x)')\n"
            "while True:\n"
            "    con.execute('BEGIN IMMEDIATE'); con.execute('INSERT INTO bench_lock VALUES (1)')\n"
            "    time.sleep(0.15); con.execute('COMMIT'); time.sleep(0.25)\n")
    return subprocess.Popen([sys.executable, "-c", code, str(db_path)])


def _say(t0: float, what: str) -> None:
    print(f"[{time.perf_counter() - t0:7.1f} s] {what}", file=sys.stderr, flush=True)


def child(mode: str, n: int, n_audit: int, n_versions: int) -> dict:
    t_start = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="gui_stalls_"))
    os.environ["MEDSTATION_HOME"] = str(home)
    os.environ["MEDSTATION_KB_STARTER"] = "false"
    import medstation
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.access.users import AccountStore
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.imaging.synthetic import SeriesSpec, write_series
    from medstation.jobs import JobContext
    from medstation.store.tables import TrainingRunStatus
    from medstation.training import runs
    from medstation.ui.admin import reason_dialog
    from medstation.ui.admin.tab import AdminTab
    from medstation.ui.notes.tab import NotesTab
    from medstation.ui.runner import JobRunner
    from medstation.ui.segmentation.panel import SegmentationPanel
    from medstation.ui.viewer.tab import ViewerTab

    _say(t_start, "imported")
    app = QApplication.instance() or QApplication([])
    admin = Actor("ann", Role.admin)
    services = build_services(Settings(sample_study=False), session=UserSession(admin))
    db, registry = services.db, services.registry
    AccountStore(db).add_user("ann", Role.admin, PASSWORD)  # the product's argon2 cost
    with db.session() as s:  # one commit: a per-event fsync would take minutes to build the store
        for i in range(n_audit):
            db.audit("note.view", actor=admin, entity="note", entity_id=i, session=s)
    def weights() -> Path:  # distinct bytes: the registry keeps one version per file hash
        path = Path(tempfile.mkstemp(suffix=".pth", dir=home)[1])
        path.write_bytes(os.urandom(4096))
        return path

    base = registry.register("segmentation", "LiteMedSAM", weights(), status="active")
    for i in range(n_versions):
        registry.register("segmentation", f"LiteMedSAM ft {i}", weights(), parent_id=base.id,
                          metrics={"val_dice": 0.7 + i / 1000})
    _say(t_start, "registry")
    run = runs.enqueue(db, home, kind="segmentation", dataset_version_id=None, base_model_id=base.id,
                       params={"epochs": 30}, actor="ann")
    for epoch in range(30):
        runs.record_epoch(db, run.id, {"epoch": epoch, "train_loss": 1 / (epoch + 1), "val_dice": 0.5 + epoch / 100})
    runs.finish(db, run.id, TrainingRunStatus.succeeded, model_version_id=base.id)
    _say(t_start, "runs")
    candidates = [registry.register("segmentation", f"bench candidate {i}", weights(), parent_id=base.id)
                  for i in range(n)]

    notes = services.notes
    client = notes.create_client("C-BENCH")
    visit = notes.create_session(client.id, "2026-12-01")
    turns = [("Therapist", "How has the week been since we last met, and how is sleep going?"),
             ("Client", "I have been anxious at work most days and I wake at four most nights since the move.")]
    notes.import_transcript(visit.id, "\n".join(f"{w}: {t}" for _ in range(15) for w, t in turns), "visit.txt")
    _say(t_start, "transcript")
    notes.draft(JobContext(), visit.id, "soap")

    _say(t_start, "store populated")
    series = home / "data" / "ct"
    write_series(series, SeriesSpec(n_slices=6, rows=48, columns=64, pixel_spacing=(0.8, 0.6), slice_step=2.5))

    runner = JobRunner()
    window = QMainWindow()
    notes_tab = NotesTab(notes, runner)
    admin_tab = AdminTab(services.training, runner, services.session)
    viewer = ViewerTab(imaging=services.imaging, settings=services.settings, runner=runner, db=db,
                       session=services.session)
    panel = SegmentationPanel(viewer, services.segmentation, runner, session=services.session,
                              exports_dir=services.settings.exports_dir, load_engine=False)
    viewer.add_side_panel(panel, "Segmentation")
    from PySide6.QtWidgets import QTabWidget
    tabs = QTabWidget()
    for widget, title in ((viewer, "Viewer"), (notes_tab, "Notes"), (admin_tab, "Admin")):
        tabs.addTab(widget, title)
    window.setCentralWidget(tabs)
    window.resize(1400, 900)
    window.show()
    from medstation.ui.access.idle_lock import IdleLock
    lock_kwargs = {"runner": runner} if "runner" in inspect.signature(IdleLock).parameters else {}
    idle = IdleLock(window, AccountStore(db), services.session, minutes=0, **lock_kwargs)
    reason_dialog.ask_reason = lambda *a, **k: "benchmark"  # the reason box, answered

    gaps: list[tuple[float, float]] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append((last[0], now))
        last[0] = now

    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(HEARTBEAT_MS)
    heart.timeout.connect(beat)
    heart.start()

    def idle_runner() -> bool:
        return not any(runner._current.values())

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def wait_until(cond, timeout: float = 60.0) -> None:
        loop, end = QEventLoop(), time.perf_counter() + timeout
        poll = QTimer()
        poll.setInterval(2)
        poll.timeout.connect(lambda: loop.quit() if cond() or time.perf_counter() > end else None)
        poll.start()
        loop.exec()
        poll.stop()

    def event(trigger, done) -> tuple[float, float, bool]:
        """(longest block ms, time inside the slot ms, finished) of one action."""
        slot: list[float] = []

        def fire() -> None:
            t = time.perf_counter()
            trigger()
            slot.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        QTimer.singleShot(0, fire)
        wait_until(lambda: bool(slot) and idle_runner() and done())
        finished = bool(slot) and done()
        spin(0.03)  # what the last result's slots still draw
        t1 = time.perf_counter()
        worst = max((b - a for a, b in gaps if b >= t0 and a <= t1), default=0.0)
        return (max(0.0, worst * 1000 - HEARTBEAT_MS), (slot[0] * 1000 if slot else float("nan")), finished,
                (t1 - t0) * 1000)

    # warm up: every widget has loaded what it shows
    with_viewer = viewer.open_paths([series]) if hasattr(viewer, "open_paths") else None
    wait_until(lambda: viewer.current_volume() is not None and idle_runner(), 60)
    notes_tab.select_session(visit.id)
    wait_until(lambda: notes_tab.note is not None and idle_runner(), 60)
    admin_tab.refresh()
    wait_until(idle_runner, 60)
    del with_viewer

    _say(t_start, "widgets loaded")
    holder = _lock_holder(services.settings.db_path) if mode == "contended" else None
    spin(0.5)
    results: dict[str, list] = {name: [] for name in EVENTS}
    try:
        for i in range(n):
            # Notes: a few words typed, then the autosave timer's tick.
            cursor = notes_tab.editor.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            notes_tab.editor.setTextCursor(cursor)
            notes_tab.editor.insertPlainText(f" Reviewed the sleep diary together ({i}).")
            results["notes_autosave"].append(event(notes_tab._autosave, lambda: not notes_tab.actions.dirty))
            # Admin: force-promote a fresh candidate (the gate has no A/B for it), as the button does.
            cand = registry.get(candidates[i].id)
            admin_tab.decisions.selected = lambda c=cand: c
            results["admin_promote"].append(event(admin_tab.decisions.force_promote,
                                                  lambda c=cand: registry.get(c.id).status.value == "active"))
            # Viewer: paint a mask, accept it.
            panel.set_tool("seg_brush")
            viewer.axial_view.sig_brush.emit(20.0 + i % 10, 20.0, 4.0, False)
            key = panel.current_key
            results["seg_accept"].append(event(lambda: panel.decide("accepted"),
                                               lambda k=key: panel.segments.segments[k].status.value == "accepted"))
            panel.add_segment()
            # Idle lock, then the password.
            results["idle_lock"].append(event(idle.lock_now, lambda: services.session.locked))
            idle.cover.password.setText(PASSWORD)
            results["idle_unlock"].append(event(idle.cover.try_unlock, lambda: not services.session.locked))
        for i in range(n):  # each rollback reactivates the version the previous promotion replaced
            before = next(v.id for v in registry.history("segmentation") if v.status.value == "active")
            results["admin_rollback"].append(event(admin_tab.decisions.rollback,
                                                   lambda b=before: registry.get(b).status.value == "retired"))
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    _say(t_start, "events done")
    runner.shutdown(10_000)
    services.close()
    return {"medstation": medstation.__file__, "mode": mode, "n": n, "audit_events": n_audit + 0,
            "versions": n_versions + n + 1, "events": results}


# --- the parent: trees × modes, one table -------------------------------------------------------------

def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summarise(events: dict[str, list]) -> dict[str, dict]:
    out = {}
    for name, rows in events.items():
        stalls, slots = [r[0] for r in rows], [r[1] for r in rows]
        out[name] = {"n": len(rows), "failed": sum(not r[2] for r in rows), "p50": _pct(stalls, 0.5),
                     "p95": _pct(stalls, 0.95), "max": max(stalls, default=float("nan")),
                     "slot_p95": _pct(slots, 0.95), "duration_p50": _pct([r[3] for r in rows], 0.5),
                     "mean": statistics.fmean(stalls) if stalls else float("nan")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", action="append", default=[], help="label=path of a checkout (repeat); default: this one")
    ap.add_argument("--mode", action="append", choices=("quiet", "contended"), default=[])
    ap.add_argument("--n", type=int, default=20, help="events of each kind per tree and mode")
    ap.add_argument("--audit", type=int, default=400, help="audit events in the store")
    ap.add_argument("--versions", type=int, default=40, help="segmentation versions in the registry")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write every figure here")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.mode[0], args.n, args.audit, args.versions)))
        return
    trees = [t.split("=", 1) for t in args.tree] or [["this", str(Path(__file__).resolve().parents[1])]]
    modes = args.mode or ["quiet", "contended"]
    info = machine()
    print(f"machine: {info['cpu']} · flags {' '.join(info['flags'])} · {info['cores']} cores · load {info['load']}"
          f" · Python {info['python']} · QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}")
    report = {"machine": info, "runs": []}
    for mode in modes:
        for label, path in trees:
            env = {**os.environ, "PYTHONPATH": str(Path(path).resolve())}
            load = os.getloadavg()[0]
            proc = subprocess.run([sys.executable, __file__, "--child", "--mode", mode, "--n", str(args.n),
                                   "--audit", str(args.audit), "--versions", str(args.versions)],
                                  env=env, capture_output=True, text=True, cwd=str(Path(path).resolve()))
            if proc.returncode != 0:
                print(f"{label} {mode}: FAILED\n{proc.stderr[-3000:]}")
                continue
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            summary = summarise(data["events"])
            report["runs"].append({"tree": label, "path": path, "load_1min": load, **data, "summary": summary})
            print(f"\n{label} ({data['medstation']}) · {mode} · {data['n']} events each · store: "
                  f"{data['audit_events']} audit events, {data['versions']} versions · load at start {load:.2f}")
            print(f"  {'event':<16}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'slot p95':>10}{'not done':>10}"
                  f"{'took p50':>10}")
            for name in EVENTS:
                s = summary[name]
                print(f"  {name:<16}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}{s['slot_p95']:>10.1f}"
                      f"{s['failed']:>10}{s['duration_p50']:>10.0f}")
    print(f"\nload after: {[round(x, 2) for x in os.getloadavg()]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
