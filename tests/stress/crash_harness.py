"""Crash-safety harness: SIGKILL a writer at random points, then prove nothing committed was lost.

Each cycle forks a worker (a real process; the fork skips Python start-up so a
thousand kills fit in minutes) that loops over one workload against the data
folder, and records each unit of work in an fsynced journal *after* the store
call returned. The parent kills it with SIGKILL after a random delay, then
checks the store:

- ``PRAGMA integrity_check`` is ``ok`` and the audit hash chain verifies;
- every journaled record is present and unchanged (content sha256);
- accepted masks: both ``.npz`` files load and hash as journaled;
- ingestion: every journaled series is indexed with all its instances;
- model registration: no ``model_version`` row points at a missing or
  different file (no half-written model is ever registered).

Workloads: ``record`` (committed rows written through the session API; a
stand-in for note saves while the notes store is not on this branch),
``mask`` (``segmentation.records.save_decision``, the real accept path),
``ingest`` (synthetic DICOM series through the real indexer) and ``model``
(write a model file durably, then register it).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

WORKLOADS = ("record", "mask", "ingest", "model")


@dataclass
class HarnessReport:
    kills: Counter = field(default_factory=Counter)
    committed: Counter = field(default_factory=Counter)  # journaled units checked after the last kill
    failures: list[str] = field(default_factory=list)
    worker_exits: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kills = ", ".join(f"{k} {v}" for k, v in sorted(self.kills.items()))
        done = ", ".join(f"{k} {v}" for k, v in sorted(self.committed.items()))
        return (f"{sum(self.kills.values())} kills ({kills}); committed units verified: {done}; "
                f"{len(self.failures)} integrity failures; {len(self.worker_exits)} workers exited on their own")


def _journal(path: Path, entry: dict) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_journal(path: Path) -> list[dict]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass  # a line torn by the kill was never acknowledged
    return entries


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- workers (run in the forked child) -------------------------------------------------------------


def _worker(kind: str, home: Path, seed: int) -> None:
    from medstation.store.database import Database

    rng = random.Random(seed)
    db = Database(home / "medstation.db", migrate=False)
    journal = home / f"journal-{kind}.jsonl"
    step = {"record": _record_step, "mask": _mask_step, "ingest": _ingest_step, "model": _model_step}[kind]
    n = 0
    while True:
        step(db, home, rng, journal, f"{seed}-{n}")
        n += 1


def _record_step(db, home, rng, journal, tag) -> None:
    from medstation.store.tables import ChatMessage, Conversation

    content = f"session note {tag}: " + "".join(rng.choice("abcdefgh ") for _ in range(rng.randint(50, 4000)))
    with db.session() as s:
        conv = Conversation(title=f"stress {tag}")
        s.add(conv)
        s.flush()
        msg = ChatMessage(conversation_id=conv.id, role="user", content=content)
        s.add(msg)
        s.flush()
        msg_id = int(msg.id)
    db.audit("stress.record", actor="stress", entity="chat_message", entity_id=msg_id)
    _journal(journal, {"id": msg_id, "sha": _sha(content.encode())})


def _mask_step(db, home, rng, journal, tag) -> None:
    import numpy as np

    from medstation.segmentation.records import SegmentRecord, save_decision

    mask = (np.random.default_rng(rng.randrange(2**32)).random((4, 32, 32)) > 0.7).astype(np.uint8)
    record = SegmentRecord(f"1.2.3.{rng.randint(1, 5)}", f"seg {tag}", "#ff0000", mask, mask, "stress", None)
    seg_id = save_decision(db, home, record, "accepted", "stress", None)
    _journal(journal, {"id": seg_id, "sha": _sha(mask.tobytes())})


def _ingest_step(db, home, rng, journal, tag) -> None:
    from medstation.imaging.indexer import index_paths
    from medstation.imaging.synthetic import SeriesSpec, write_series
    from medstation.jobs import JobContext

    folder = home / "incoming" / tag
    paths = write_series(folder, SeriesSpec(n_slices=rng.randint(2, 5), rows=8, columns=8))
    index_paths(JobContext(), db, [folder])
    import pydicom

    uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
    _journal(journal, {"series_uid": uid, "n": len(paths)})


def _model_step(db, home, rng, journal, tag) -> None:
    from medstation.store.tables import ModelKind, ModelVersion

    data = rng.randbytes(rng.randint(10_000, 400_000))
    final = home / "models" / f"stress-{tag}.onnx"
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_suffix(".partial")
    with tmp.open("wb") as fh:  # the weights are durable on disk before any row names them
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    digest = _sha(data)
    with db.session() as s:
        row = ModelVersion(kind=ModelKind.segmentation, name=f"stress {tag}", path=str(final), sha256=digest,
                           size_bytes=len(data), source="fine-tuned")
        s.add(row)
        s.flush()
        row_id = int(row.id)
    db.audit("model.register", actor="stress", entity="model_version", entity_id=row_id, sha256=digest)
    _journal(journal, {"id": row_id, "sha": digest})


# --- checks (run in the parent after each kill) ----------------------------------------------------


def check_store(home: Path, kind: str, *, deep_from: int = 0) -> tuple[int, list[str]]:
    """(journaled units verified, problems) for the data folder after a kill.

    Journal entries before ``deep_from`` (already deep-checked after an earlier kill) get the
    row and file-exists checks only; their mask files are never rewritten, and the final
    call of a run deep-checks everything again."""
    from medstation.store.audit_chain import verify_chain

    problems: list[str] = []
    con = sqlite3.connect(home / "medstation.db")
    try:
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"integrity_check: {verdict}")
        chain = verify_chain(con)
        if not chain.intact:
            problems.append(chain.summary())
        entries = _read_journal(home / f"journal-{kind}.jsonl")
        checker = {"record": _check_record, "mask": _check_mask, "ingest": _check_ingest, "model": _check_model}[kind]
        for index, entry in enumerate(entries):
            problem = checker(con, entry, index >= deep_from)
            if problem:
                problems.append(problem)
        problems += _check_no_half_models(con, deep=deep_from == 0)
    finally:
        con.close()
    return len(entries), problems


def _check_record(con, e, deep) -> str:
    row = con.execute("SELECT content FROM chat_message WHERE id = ?", (e["id"],)).fetchone()
    if row is None:
        return f"record {e['id']} lost"
    return "" if _sha(row[0].encode()) == e["sha"] else f"record {e['id']} changed"


def _check_mask(con, e, deep) -> str:
    import numpy as np

    row = con.execute("SELECT status, mask_path, ai_mask_path FROM segmentation WHERE id = ?", (e["id"],)).fetchone()
    if row is None:
        return f"mask {e['id']} lost"
    if row[0] != "accepted":
        return f"mask {e['id']} status {row[0]}"
    for path in row[1:]:
        if not deep:
            if not Path(path).is_file():
                return f"mask {e['id']} file {path} missing"
            continue
        try:
            with np.load(path, allow_pickle=False) as data:
                if _sha(np.asarray(data["mask"], np.uint8).tobytes()) != e["sha"]:
                    return f"mask {e['id']} file {path} changed"
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the failure being measured
            return f"mask {e['id']} file {path} unreadable: {exc}"
    return ""


def _check_ingest(con, e, deep) -> str:
    row = con.execute("SELECT n_instances, (SELECT COUNT(*) FROM instance WHERE series_id = series.id) FROM series "
                      "WHERE series_uid = ?", (e["series_uid"],)).fetchone()
    if row is None:
        return f"series {e['series_uid']} lost"
    return "" if tuple(row) == (e["n"], e["n"]) else f"series {e['series_uid']} has {row} of {e['n']} instances"


def _check_model(con, e, deep) -> str:
    row = con.execute("SELECT sha256 FROM model_version WHERE id = ?", (e["id"],)).fetchone()
    if row is None:
        return f"model {e['id']} registration lost"
    return "" if row[0] == e["sha"] else f"model {e['id']} changed"


def _check_no_half_models(con, deep: bool) -> list[str]:
    """Every registered fine-tuned model has its whole file: size always, sha256 when ``deep``."""
    problems = []
    rows = con.execute("SELECT id, path, sha256, size_bytes FROM model_version WHERE source = 'fine-tuned'")
    for row_id, path, digest, size in rows:
        file = Path(path)
        if not file.is_file():
            problems.append(f"model {row_id} registered without its file")
        elif file.stat().st_size != size or (deep and _sha(file.read_bytes()) != digest):
            problems.append(f"model {row_id} registered with a half-written file")
    return problems


# --- driver ----------------------------------------------------------------------------------------


def prepare(home: Path) -> None:
    from medstation.config import Settings
    from medstation.store.database import Database

    home.mkdir(parents=True, exist_ok=True)
    Database(home / "medstation.db").close()  # migrations run once, here, not in each worker
    del Settings
    # imported before forking so each worker starts writing within milliseconds
    import numpy  # noqa: F401
    import pydicom  # noqa: F401

    import medstation.imaging.indexer  # noqa: F401
    import medstation.imaging.synthetic  # noqa: F401
    import medstation.segmentation.records  # noqa: F401

    _warm_up(home.parent / (home.name + "-warmup"))


def _warm_up(scratch: Path) -> None:
    """One unit of each workload in a scratch folder, so mappers and compiled SQL are ready before forking."""
    import shutil

    from medstation.store.database import Database

    scratch.mkdir(parents=True, exist_ok=True)
    db = Database(scratch / "medstation.db")
    try:
        rng = random.Random(0)
        for step in (_record_step, _mask_step, _ingest_step, _model_step):
            step(db, scratch, rng, scratch / "journal.jsonl", "warmup")
    finally:
        db.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _wait_for_commit(journal: Path, known: int, pid: int, timeout_s: float = 60.0) -> int | None:
    """Wait until the journal has a new entry; the wait status if the worker ended by itself instead."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if len(_read_journal(journal)) > known:
            return None
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    return None


def run_kills(home: Path, kills_per_workload: int, *, seed: int = 0, max_delay_s: float = 0.4,
              workloads=WORKLOADS, report: HarnessReport | None = None, on_cycle=None) -> HarnessReport:
    """Kill ``kills_per_workload`` workers per workload at random points; check the store after each."""
    rng = random.Random(seed)
    report = report or HarnessReport()
    prepare(home)
    for kind in workloads:
        for i in range(kills_per_workload):
            child_seed = rng.randrange(2**31)
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller's stack
                code = 0
                try:
                    _worker(kind, home, child_seed)
                except BaseException:  # noqa: BLE001
                    import traceback

                    traceback.print_exc()
                    code = 3
                os._exit(code)
            status = None
            if i % 2:  # every other cycle lets one unit commit first, so kills also land mid-way through later units
                status = _wait_for_commit(home / f"journal-{kind}.jsonl", report.committed[kind], pid)
            if status is None:
                time.sleep(rng.uniform(0.02, max_delay_s))
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                report.kills[kind] += 1
            else:
                report.worker_exits.append(f"{kind} #{i}: exit status {status}")
            checked, problems = check_store(home, kind, deep_from=report.committed[kind])
            report.committed[kind] = checked
            report.failures += [f"{kind} kill #{i}: {p}" for p in problems]
            if on_cycle:
                on_cycle(kind, i, report)
        checked, problems = check_store(home, kind)  # everything once more, deeply
        report.failures += [f"{kind} final check: {p}" for p in problems]
    return report
