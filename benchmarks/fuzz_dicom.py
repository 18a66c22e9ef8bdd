"""Long DICOM fuzz run (outside CI): mutants of the seed files through the app's index + load path.

Each worker process runs under a 2 GB address-space limit; every input gets a
10 s alarm. A worker that dies (segfault, out of memory) is restarted and its
input saved under --findings as a crash. Mutant i of a run is fully determined
by (--seed, i), so every finding is reproducible. Stops at --inputs or after
--max-seconds, whichever comes first, and prints inputs run, loaded/reported
counts, crashes, hangs, memory blow-ups, the rate and the load average.

    .venv/bin/python benchmarks/fuzz_dicom.py --inputs 100000 --workers 2 --max-seconds 3600
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_SERIES = ROOT.parent / "shared" / "data" / "dicom"
MEMORY_LIMIT = 2 * 1024**3
HANG_S = 10


class _Hang(Exception):
    pass


def _alarm(_s, _f):
    raise _Hang()


def worker(seed: int, start: int, step: int, stop: int, scratch: Path) -> int:
    """Run mutants start, start+step, ... < stop; one JSON line per finding and per 200 inputs."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    import logging

    logging.disable(logging.CRITICAL)
    from tests.fuzz.dicom_targets import exercise, mutate, seed_files

    seeds = seed_files([SHARED_SERIES] if SHARED_SERIES.is_dir() else None)
    seed_bytes = [p.read_bytes() for p in seeds]
    for seed_path in seeds[:5]:  # import everything before any alarm: an alarm inside an import leaves
        exercise(seed_path)        # half-initialised modules (run 1 counted 69 such AttributeErrors as crashes)
    signal.signal(signal.SIGALRM, _alarm)
    path = scratch / "mutant.dcm"
    counts = {"loaded": 0, "reported": 0}
    done = 0
    for i in range(start, stop, step):
        rng = random.Random(f"{seed}:{i}")
        data = mutate(seed_bytes[rng.randrange(len(seed_bytes))], rng)
        path.write_bytes(data)
        (scratch / "current").write_text(str(i))
        signal.alarm(HANG_S)
        try:
            counts[exercise(path)] += 1
        except _Hang:
            print(json.dumps({"kind": "hang", "i": i}), flush=True)
        except MemoryError:
            print(json.dumps({"kind": "memory", "i": i}), flush=True)
        except Exception as exc:  # noqa: BLE001 - an escaped exception is a crash finding
            print(json.dumps({"kind": "crash", "i": i, "error": f"{type(exc).__name__}: {exc}"[:300]}), flush=True)
        finally:
            signal.alarm(0)
        done += 1
        if done % 200 == 0:
            print(json.dumps({"kind": "progress", "i": i, "done": done, **counts}), flush=True)
    print(json.dumps({"kind": "end", "done": done, **counts}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="mutants to run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=1, help="run seed (mutant i is fixed by seed and i)")
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop after this long")
    parser.add_argument("--findings", default="", help="folder for crashing inputs (default: a temporary folder)")
    parser.add_argument("--replay", type=int, default=None, help="run only mutant i of --seed in this process and show the error")
    parser.add_argument("--worker", nargs=4, type=int, metavar=("SEED", "START", "STEP", "STOP"), help=argparse.SUPPRESS)
    parser.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(*args.worker, Path(args.scratch))
    if args.replay is not None:
        from tests.fuzz.dicom_targets import exercise, mutate, seed_files

        seeds = seed_files([SHARED_SERIES] if SHARED_SERIES.is_dir() else None)
        rng = random.Random(f"{args.seed}:{args.replay}")
        seed = seeds[rng.randrange(len(seeds))]
        path = Path(tempfile.mkdtemp()) / "mutant.dcm"
        path.write_bytes(mutate(seed.read_bytes(), rng))
        print(f"mutant {args.replay} of seed {args.seed}: from {seed}, written to {path}")
        print(exercise(path))
        return 0

    findings = Path(args.findings or tempfile.mkdtemp(prefix="medstation-fuzz-findings-"))
    findings.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    start_time = time.time()
    totals = {"done": 0, "loaded": 0, "reported": 0, "crash": 0, "hang": 0, "memory": 0, "worker_deaths": 0}
    examples: list[dict] = []
    # each worker owns the residues start (mod workers); a dead worker restarts after its last input
    cursors = {w: w for w in range(args.workers)}
    live: dict[int, tuple[subprocess.Popen, Path, dict]] = {}

    def spawn(w: int) -> None:
        scratch = Path(tempfile.mkdtemp(prefix=f"medstation-fuzz-w{w}-"))
        cmd = [sys.executable, __file__, "--worker", str(args.seed), str(cursors[w]), str(args.workers),
               str(args.inputs), "--scratch", str(scratch)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        os.set_blocking(proc.stdout.fileno(), False)
        live[w] = (proc, scratch, {"done": 0, "loaded": 0, "reported": 0, "buf": ""})

    for w in range(args.workers):
        if cursors[w] < args.inputs:
            spawn(w)
    last_print = 0.0
    while live:
        time.sleep(0.2)
        timed_out = time.time() - start_time > args.max_seconds
        for w, (proc, scratch, state) in list(live.items()):
            chunk = (proc.stdout.read() or b"").decode("utf-8", "replace")
            state["buf"] += chunk
            *lines, state["buf"] = state["buf"].split("\n")
            for line in lines:
                msg = json.loads(line)
                if msg["kind"] in ("progress", "end"):
                    state.update({k: msg[k] for k in ("done", "loaded", "reported")})
                    if msg["kind"] == "progress":
                        cursors[w] = msg["i"] + args.workers
                else:
                    totals[msg["kind"]] += 1
                    examples.append(msg)
                    cursors[w] = msg["i"] + args.workers
                    print("  FINDING", json.dumps(msg), flush=True)
            if timed_out and proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.poll() is not None:
                rest = (proc.stdout.read() or b"").decode("utf-8", "replace")
                for line in (state["buf"] + rest).split("\n"):
                    if line.strip():
                        msg = json.loads(line)
                        if msg["kind"] == "end":
                            state.update({k: msg[k] for k in ("done", "loaded", "reported")})
                        elif msg["kind"] in ("crash", "hang", "memory"):
                            totals[msg["kind"]] += 1
                            examples.append(msg)
                for key in ("done", "loaded", "reported"):
                    totals[key] += state[key]
                died = proc.returncode not in (0,) and not timed_out
                if died:
                    current = int((scratch / "current").read_text()) if (scratch / "current").exists() else cursors[w]
                    kind = "memory" if proc.returncode in (-signal.SIGKILL, -signal.SIGABRT) else "crash"
                    totals[kind] += 1
                    totals["worker_deaths"] += 1
                    totals["done"] += 1
                    shutil.copy(scratch / "mutant.dcm", findings / f"{kind}-{current}.dcm")
                    examples.append({"kind": kind, "i": current, "error": f"worker exit {proc.returncode}"})
                    cursors[w] = current + args.workers
                shutil.rmtree(scratch, ignore_errors=True)
                del live[w]
                if died and cursors[w] < args.inputs:
                    spawn(w)
        if time.time() - last_print > 60:
            last_print = time.time()
            running = totals["done"] + sum(s["done"] for _, _, s in live.values())
            print(f"  {running} inputs, {time.time() - start_time:.0f} s, findings {len(examples)}", flush=True)
    elapsed = time.time() - start_time
    print(json.dumps(totals))
    for example in examples[:20]:
        print("  FINDING", json.dumps(example))
    print(f"{totals['done']} inputs in {elapsed:.0f} s ({totals['done'] / max(elapsed, 1e-9):.1f}/s, {args.workers} workers): "
          f"{totals['crash']} crashes, {totals['hang']} hangs (>{HANG_S} s), {totals['memory']} memory blow-ups "
          f"(> 2 GB); loaded {totals['loaded']}, reported {totals['reported']}; seed {args.seed}; findings in {findings}; "
          f"load average {os.getloadavg()}")
    return 1 if totals["crash"] or totals["hang"] or totals["memory"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
