"""Benchmark: what SQLCipher at-rest encryption costs on note saves and series indexing.

Two workloads, each run on a plaintext store and on an encrypted store (same code,
same data, interleaved rounds in the same process, fresh data folder per round, after
one uncounted warm-up):

* **note save** — through :class:`~medstation.notes.service.NotesService`: a client,
  a session, a transcript, one extractive draft (model off: the draft itself is not
  what is measured), then ``--saves`` edits each saved with ``save_revision`` plus an
  autosave, and the sign-off. Timed: the edit/save/autosave loop and sign-off only.
* **series index** — :func:`medstation.imaging.indexer.index_paths` over the shipped
  sample CT (``resources/sample_ct``) and, as a second workload when present,
  ``../shared/data/dicom`` (every series there). Each on its own empty store: the
  shared CT series is the sample CT itself (same SOP Instance UIDs). Timed: the index call.

Prints the median seconds per workload for both stores, the ratio encrypted/plaintext
(target ≤ 1.15), the CPU flags and the load average. The key is the same kind the
app uses (argon2id passphrase → wrapped raw key); the KDF runs once per store open
and is reported separately (it is not part of a save).

    nice -n 19 .venv/bin/python benchmarks/bench_encryption.py [--rounds 7] [--saves 200] [--dicom ../shared/data/dicom]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSPHRASE = "benchmark passphrase, not a secret"
TRANSCRIPT = "\n".join([
    "Therapist: How have the last two weeks been?",
    "Client: I have been feeling anxious at work most days and I wake up at four in the morning.",
    "Client: My mind races about the deadlines and I can't get back to sleep.",
    "Therapist: We will keep working on the worry log and practise the breathing every night.",
] * 10)


def cpu_flags() -> str:
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split(":")[1].split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("aes", "sha_ni", "sse4_2", "avx", "avx2", "avx512f", "vaes")
    return " ".join(f for f in wanted if f in flags)


def open_store(home: Path, encrypted: bool):
    """A fresh Database in ``home``: plaintext, or encrypted with the app's key scheme. Returns (db, kdf_s)."""
    from medstation.access import encryption
    from medstation.store.database import Database

    home.mkdir(parents=True, exist_ok=True)
    db_path = home / "medstation.db"
    if not encrypted:
        return Database(db_path), 0.0
    t = time.perf_counter()
    header, kek = encryption.create_key_header(db_path, passphrase=PASSPHRASE)
    kdf_s = time.perf_counter() - t
    return Database(db_path, key=encryption.unwrap_db_key(header, kek)), kdf_s


def note_save_workload(home: Path, encrypted: bool, saves: int) -> dict:
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.config import Settings
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.service import NotesService

    db, kdf_s = open_store(home, encrypted)
    try:
        settings = Settings(home=home)
        notes = NotesService(settings, db, UserSession(Actor("bench.therapist", Role.therapist)))
        client = notes.create_client("BENCH-1")
        session = notes.create_session(client.id, "2026-12-01")
        notes.import_transcript(session.id, TRANSCRIPT, "bench.txt")
        note = notes.draft(JobContext(), session.id, "soap", DraftOptions(use_model=False))
        doc = notes.tracked(note.id)
        start = time.perf_counter()
        for i in range(saves):
            doc.replace(len(doc.text), len(doc.text), f" Edit {i}.", author="bench.therapist")
            notes.autosave(note.id, doc, i)
            notes.save_revision(note.id, doc)
        save_s = time.perf_counter() - start
        for flag in notes.note(note.id).pending_risks:  # none for this transcript; kept so sign-off is timed
            notes.acknowledge_risk(note.id, flag["category"], "reviewed")
        t = time.perf_counter()
        notes.sign(note.id, doc.text)
        sign_s = time.perf_counter() - t
    finally:
        db.close()
    return {"saves_s": save_s, "per_save_ms": 1000 * save_s / saves, "sign_s": sign_s, "kdf_s": kdf_s}


def index_workload(home: Path, encrypted: bool, folders: list[Path]) -> dict:
    from medstation.imaging.indexer import index_paths
    from medstation.jobs import JobContext

    db, kdf_s = open_store(home, encrypted)
    try:
        start = time.perf_counter()
        report = index_paths(JobContext(), db, folders)
        seconds = time.perf_counter() - start
    finally:
        db.close()
    return {"index_s": seconds, "files": report.scanned, "kdf_s": kdf_s}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7, help="rounds per store kind (median reported)")
    p.add_argument("--index-repeats", type=int, default=5,
                   help="sample-CT index runs per round (each on a fresh store; it takes about 0.1 s)")
    p.add_argument("--saves", type=int, default=200, help="note edits saved per round")
    p.add_argument("--dicom", default=str(ROOT.parent / "shared" / "data" / "dicom"),
                   help="extra DICOM folder to index after the sample CT (skipped when absent)")
    p.add_argument("--out", default="", help="also write the JSON report here")
    args = p.parse_args(argv)

    from medstation.config import sample_study_dir

    index_sets = {"series_index_sample_ct": [sample_study_dir()]}
    if Path(args.dicom).is_dir():
        index_sets["series_index_shared_dicom"] = [Path(args.dicom)]
    rows: dict[str, dict[str, list[dict]]] = {w: {"plaintext": [], "encrypted": []}
                                              for w in ("note_save", *index_sets)}
    with tempfile.TemporaryDirectory(prefix="bench-enc-") as tmp:
        # warm-up, not counted: imports, the OS file cache of the DICOM files, sqlcipher's first load
        note_save_workload(Path(tmp) / "warm-n", True, 2)
        for name, folders in index_sets.items():
            index_workload(Path(tmp) / f"warm-{name}", False, folders)
        for r in range(args.rounds):
            for kind in (("plaintext", "encrypted") if r % 2 == 0 else ("encrypted", "plaintext")):
                encrypted = kind == "encrypted"
                rows["note_save"][kind].append(note_save_workload(Path(tmp) / f"n{r}{kind}", encrypted, args.saves))
                for name, folders in index_sets.items():
                    repeats = args.index_repeats if name == "series_index_sample_ct" else 1  # 22 files: ~0.1 s
                    for k in range(repeats):
                        rows[name][kind].append(index_workload(Path(tmp) / f"{name}{r}{kind}{k}", encrypted, folders))

    def med(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 4) if values else None

    report = {"workloads": {}, "saves_per_round": args.saves, "rounds": args.rounds, "target_ratio": 1.15,
              "index_sets": {name: {"folders": [str(f) for f in folders], "files": rows[name]["plaintext"][0]["files"]}
                             for name, folders in index_sets.items()}}
    for workload, key in (("note_save", "saves_s"), *((name, "index_s") for name in index_sets)):
        plain = med([x[key] for x in rows[workload]["plaintext"]])
        enc = med([x[key] for x in rows[workload]["encrypted"]])
        report["workloads"][workload] = {
            "plaintext_s": plain, "encrypted_s": enc, "ratio": round(enc / plain, 3) if plain else None,
            "per_save_ms": {k: med([x["per_save_ms"] for x in rows[workload][k]]) for k in rows[workload]}
            if workload == "note_save" else None,
            "sign_s": {k: med([x["sign_s"] for x in rows[workload][k]]) for k in rows[workload]}
            if workload == "note_save" else None}
    report["kdf_s_per_store_open"] = med([x["kdf_s"] for x in rows["note_save"]["encrypted"]])
    from medstation.access.encryption import cipher_dbapi

    con = cipher_dbapi().connect(":memory:")
    report["sqlcipher"] = con.execute("PRAGMA cipher_version").fetchone()[0]
    con.close()
    report.update({"cpu_flags": cpu_flags(), "cpu_count": os.cpu_count(), "load_average": list(os.getloadavg())})
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
