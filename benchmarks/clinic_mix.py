"""Clinic mix: N workstation processes on one PostgreSQL server beside the same mix on a single-user SQLite store.

Each workstation (its own process, engine and pool) repeats, ``--rounds`` times: index the bundled
sample CT series (20 files; every workstation indexes the same series, so these are upserts racing
each other), accept a mask, save a note revision, append 5 audit events, read the newest 200 audit
events. The SQLite run is one process doing the same rounds on a local file (the single-workstation
case it is built for). Both in the same run, on the same machine; per operation p50/p95 in ms.

PostgreSQL: ``--pg-url`` (a superuser URL), or a throw-away cluster started here with
``PG_FSYNC=on`` (durable commits, as SQLite's ``synchronous=FULL``).

    nice .venv/bin/python benchmarks/clinic_mix.py --workstations 8 --rounds 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OPS = ("index_series", "accept_mask", "save_note_revision", "append_audit_event", "read_audit_trail")


def workstation(location: str, home: str, name: str, rounds: int, barrier, results) -> None:
    """One workstation's mix; puts (name, {op: [seconds...]}, {op: errors}) on ``results``."""
    os.environ["MEDSTATION_HOME"] = home
    os.environ["MEDSTATION_KB_STARTER"] = "false"
    import numpy as np
    from sqlmodel import select

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.config import Settings, sample_study_dir
    from medstation.imaging.service import ImagingService
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.service import NotesService
    from medstation.segmentation.records import SegmentRecord, save_decision
    from medstation.store.database import Database
    from medstation.store.tables import AuditEvent

    settings = Settings()
    settings.ensure_dirs()
    db = Database(location, anchor_root=Path(home), migrate=False)
    imaging = ImagingService(settings, db, session=UserSession(Actor(name, Role.radiologist)))
    notes = NotesService(settings, db, UserSession(Actor(name, Role.therapist)))
    client = notes.create_client(f"C-{name}-{uuid.uuid4().hex[:6]}")
    session = notes.create_session(client.id, "2026-12-06")
    notes.import_transcript(session.id, b"Therapist: How was the week?\nClient: Busy, but I slept better.\n"
                            b"Therapist: Keep the sleep diary until next time.\n", "s.txt")
    note = notes.draft(JobContext(), session.id, "soap", DraftOptions(use_model=False))
    mask = np.zeros((4, 64, 64), np.uint8)
    mask[2, 10:40, 12:44] = 1
    times = {op: [] for op in OPS}
    errors = {op: 0 for op in OPS}

    def timed(op, fn):
        start = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 (counted and reported, the mix goes on)
            errors[op] += 1
            print(f"{name} {op}: {type(exc).__name__}: {str(exc)[:160]}", file=sys.stderr)
            return
        times[op].append(time.perf_counter() - start)

    def save_revision():
        base = notes.note(note.id).revision
        doc = notes.tracked(note.id)
        doc.replace(len(doc.text), len(doc.text), f"Line {time.time()}.\n", author=name)
        notes.save_revision(note.id, doc, base_revision=base)

    def read_trail():
        with db.session() as s:
            rows = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
            assert rows

    barrier.wait(timeout=600)
    for r in range(rounds):
        timed("index_series", lambda: imaging.index_job(JobContext(), [sample_study_dir()]))
        timed("accept_mask", lambda: save_decision(db, Path(home), SegmentRecord(
            f"1.2.826.0.bench.{name}.{r}", "liver", "#ff0000", mask, mask, "litemedsam", None), "accepted", name, None))
        timed("save_note_revision", save_revision)
        for i in range(5):
            timed("append_audit_event", lambda: db.audit("bench.event", actor=name, entity="bench", entity_id=i))
        timed("read_audit_trail", read_trail)
    db.close()
    results.put((name, times, errors))


def run_mix(location: str, home: str, workstations: int, rounds: int) -> tuple[dict, dict, float]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(workstations), ctx.Queue()
    procs = [ctx.Process(target=workstation, args=(location, home, f"ws{i}", rounds, barrier, results))
             for i in range(workstations)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    merged, errors = {op: [] for op in OPS}, {op: 0 for op in OPS}
    for _ in procs:
        _name, times, errs = results.get(timeout=3600)
        for op in OPS:
            merged[op] += times[op]
            errors[op] += errs[op]
    for p in procs:
        p.join()
    return merged, errors, time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workstations", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pg-url", default="", help="superuser URL of a running server (default: start one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    from medstation.store.database import Database, upgrade_to_head
    from medstation.store.engine import make_server_engine
    from tests.pg_support import _sql, database_url

    cluster = None
    admin = args.pg_url
    if not admin:
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "start"], capture_output=True,
                              text=True, env={**os.environ, "PG_FSYNC": "on"}, check=True)
        admin, cluster = proc.stdout.strip(), proc.stderr.split("started in ", 1)[1].split(" ", 1)[0]
    try:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        _sql(admin, f'CREATE DATABASE "{name}"')
        url = database_url(admin, name)
        engine = make_server_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            pg_home, lite_home = Path(tmp) / "pg", Path(tmp) / "lite"
            pg_home.mkdir()
            lite_home.mkdir()
            Database(lite_home / "medstation.db").close()  # migrated once, before the clock
            pg = run_mix(url, str(pg_home), args.workstations, args.rounds)
            lite = run_mix(str(lite_home / "medstation.db"), str(lite_home), 1, args.rounds)
        _sql(admin, f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        if cluster:
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", cluster])
    rows = {}
    print(f"{'operation':<22} {'PostgreSQL, ' + str(args.workstations) + ' workstations':>36} "
          f"{'SQLite, 1 workstation':>30}")
    print(f"{'':<22} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'err':>5}   {'n':>6} {'p50 ms':>9} {'p95 ms':>9}")
    for op in OPS:
        a, b = pg[0][op], lite[0][op]
        rows[op] = {"postgresql": {"n": len(a), "p50_ms": pct(a, 50), "p95_ms": pct(a, 95), "errors": pg[1][op]},
                    "sqlite": {"n": len(b), "p50_ms": pct(b, 50), "p95_ms": pct(b, 95), "errors": lite[1][op]}}
        print(f"{op:<22} {len(a):>6} {pct(a, 50):>9.1f} {pct(a, 95):>9.1f} {pg[1][op]:>5}   {len(b):>6} "
              f"{pct(b, 50):>9.1f} {pct(b, 95):>9.1f}")
    print(f"wall: PostgreSQL {pg[2]:.1f} s for {args.workstations}x{args.rounds} rounds; "
          f"SQLite {lite[2]:.1f} s for 1x{args.rounds} rounds; machine load {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
