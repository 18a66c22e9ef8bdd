"""Long DICOM fuzz run (outside CI): mutants of the seed files through the app's index + load path.

Shape, chosen for throughput with the limits still enforced on every input:

- ``--workers`` long-lived worker processes each run thousands of inputs: a worker
  imports the app once, warms it on a few seeds, then loops. Worker w takes mutants
  w, w + workers, w + 2·workers, …; mutant i is fully determined by (``--seed``, i).
- Limits per worker: ``RLIMIT_AS`` 2 GB (an allocation past it is a ``MemoryError``
  or kills the worker: a memory blow-up); per input a 10 s ``SIGALRM`` timer, and a
  parent-side watchdog that kills a worker whose current input has not changed for
  the limit plus max(limit, 5 s) (C code that never returns to Python ignores alarms).
- After a timeout, a memory error or a death the worker is replaced by a fresh one
  that resumes after that input (an interrupted call may leave half-initialised
  state behind: a fresh process counts nothing twice and trusts nothing).
- Every finding's input is saved under ``--findings`` as ``<kind>-<seed>-<i>.dcm`` with
  a line in ``findings.jsonl``. ``--replay DIR`` (or one file) reruns saved inputs,
  each in a fresh process under the same limits; ``--replay I`` reruns mutant I.
- A timeout is only a *candidate* hang: at the end each one is replayed alone in a
  fresh worker (the run's own workers stopped); it counts as a hang only if it passes
  10 s again, otherwise it is reported as "slow under load" with its replay time.

Stops at ``--inputs`` or ``--max-seconds``; prints inputs run, loaded/reported counts,
crashes, hangs, memory blow-ups, the rate and the load average; exit 1 on any finding.

    nice -n 19 .venv/bin/python benchmarks/fuzz_dicom.py --inputs 100000 --workers 2 --max-seconds 7200
    nice -n 19 .venv/bin/python benchmarks/fuzz_dicom.py --replay FINDINGS_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
SERIES_ENV = "MEDSTATION_FUZZ_SERIES"  # --series, handed to the workers
HANG_S = 10
PROGRESS_EVERY = 100
TARGET = "tests.fuzz.dicom_targets:exercise"
EXIT_RESTART = 3  # a worker asks to be replaced (after a timeout or a memory error)

from tests.fuzz.limits import Hang, alarm, limit_memory, load_target, quiet, scratch_dir, watchdog_s  # noqa: E402


def _seeds() -> list[Path]:
    from tests.fuzz.dicom_targets import seed_files

    series = Path(os.environ.get(SERIES_ENV) or SHARED_SERIES)
    return seed_files([series] if series.is_dir() else None)


def mutant(seed: int, i: int, seed_bytes: list[bytes]) -> bytes:
    from tests.fuzz.dicom_targets import mutate

    rng = random.Random(f"{seed}:{i}")
    return mutate(seed_bytes[rng.randrange(len(seed_bytes))], rng)


def _emit(**msg) -> None:
    print(json.dumps(msg), flush=True)


def _save(findings: Path, kind: str, seed: int, i: int, data: bytes, **detail) -> None:
    name = f"{kind}-{seed}-{i}.dcm"
    (findings / name).write_bytes(data)
    with (findings / "findings.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": kind, "seed": seed, "i": i, "file": name, **detail}) + "\n")


def worker(seed: int, start: int, step: int, stop: int, scratch: Path, findings: Path, *, hang_s: float = HANG_S,
           target: str = TARGET) -> int:
    """Run mutants start, start+step, … < stop. JSON lines out: findings, progress every 100, end."""
    limit_memory()
    quiet()
    exercise = load_target(target)

    seeds = _seeds()
    seed_bytes = [p.read_bytes() for p in seeds]
    for seed_path in seeds[:5]:  # import everything before any alarm: an alarm inside an import leaves
        exercise(seed_path)        # half-initialised modules behind
    signal.signal(signal.SIGALRM, alarm)
    path, current = scratch / "mutant.dcm", scratch / "current"
    counts = {"loaded": 0, "reported": 0}
    for n, i in enumerate(range(start, stop, step), 1):
        data = mutant(seed, i, seed_bytes)
        path.write_bytes(data)
        current.write_text(f"{i} {counts['loaded']} {counts['reported']}")  # what the parent knows if we die here
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            outcome = exercise(path)
            signal.setitimer(signal.ITIMER_REAL, 0)  # an alarm up to here makes this input a timeout, never both
        except Hang:
            _save(findings, "timeout", seed, i, data)
            _emit(kind="timeout", i=i, **counts)
            return EXIT_RESTART
        except MemoryError:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _save(findings, "memory", seed, i, data)
            _emit(kind="memory", i=i, **counts)
            return EXIT_RESTART
        except Exception as exc:  # noqa: BLE001 - an escaped exception is a crash finding
            signal.setitimer(signal.ITIMER_REAL, 0)
            error = f"{type(exc).__name__}: {exc}"[:300]
            _save(findings, "crash", seed, i, data, error=error)
            _emit(kind="crash", i=i, error=error, **counts)
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        counts[outcome] += 1
        if n % PROGRESS_EVERY == 0:
            _emit(kind="progress", i=i, **counts)
    _emit(kind="end", i=stop, **counts)
    return 0


def replay_one(path: Path, *, hang_s: float = HANG_S, target: str = TARGET) -> dict:
    """One saved input, in this (fresh) process, under the run's limits: outcome and seconds."""
    limit_memory()
    quiet()
    exercise = load_target(target)

    signal.signal(signal.SIGALRM, alarm)
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, hang_s)
    try:
        outcome, error = exercise(path), ""
    except Hang:
        outcome, error = "hang", f"over {hang_s} s"
    except MemoryError:
        outcome, error = "memory", "MemoryError past 2 GB"
    except Exception as exc:  # noqa: BLE001
        outcome, error = "crash", f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"file": str(path), "outcome": outcome, "seconds": round(time.perf_counter() - start, 3), "error": error}


def replay_in_fresh_process(path: Path, env: dict, *, hang_s: float = HANG_S, target: str = TARGET) -> dict:
    """:func:`replay_one` in a new interpreter; a death or a stuck C call is an outcome too."""
    cmd = [sys.executable, __file__, "--replay-one", str(path), "--hang-seconds", str(hang_s), "--target", target]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=watchdog_s(hang_s) + 30, env=env)
    except subprocess.TimeoutExpired:
        return {"file": str(path), "outcome": "hang", "seconds": None, "error": "killed by the watchdog"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"file": str(path), "outcome": "memory" if done.returncode in (-signal.SIGKILL, -signal.SIGABRT)
                else "crash", "seconds": None, "error": f"exit {done.returncode}: {done.stderr[-300:]}"}
    return json.loads(lines[-1])


class _Worker:
    """A running worker process and what the parent knows of it."""

    def __init__(self, w: int, start: int, args, env: dict, findings: Path) -> None:
        self.w, self.start = w, start
        self.scratch = scratch_dir(f"medstation-fuzz-w{w}-")
        cmd = [sys.executable, __file__, "--worker", str(args.seed), str(start), str(args.workers),
               str(args.inputs), "--scratch", str(self.scratch), "--findings", str(findings),
               "--hang-seconds", str(args.hang_seconds), "--target", args.target]
        self.hang_s = args.hang_seconds
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf, self.counts = "", {"loaded": 0, "reported": 0}
        self.current, self.changed_at = None, time.time()
        self.counts_at_current = {"loaded": 0, "reported": 0}
        self.reported: set[int] = set()  # inputs this worker reported a finding for

    def read_messages(self) -> list[dict]:
        self.buf += (self.proc.stdout.read() or b"").decode("utf-8", "replace")
        *lines, self.buf = self.buf.split("\n")
        return [json.loads(line) for line in lines if line.startswith("{")]

    def poll_current(self) -> int | None:
        """The input the worker is on (None before its first); its counts before that input are kept too."""
        try:
            i, loaded, reported = map(int, (self.scratch / "current").read_text().split())
        except (OSError, ValueError):
            return self.current
        if i != self.current:
            self.current, self.changed_at = i, time.time()
            self.counts_at_current = {"loaded": loaded, "reported": reported}
        return i

    def stuck(self) -> bool:
        return self.current is not None and time.time() - self.changed_at > watchdog_s(self.hang_s)


def run(args) -> int:
    findings = Path(args.findings or tempfile.mkdtemp(prefix="medstation-fuzz-findings-"))
    findings.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    start_time = time.time()
    totals = {"done": 0, "loaded": 0, "reported": 0, "crash": 0, "memory": 0, "timeout_candidates": 0,
              "worker_restarts": 0}
    examples: list[dict] = []
    candidates: list[tuple[int, Path]] = []
    live = {w: _Worker(w, w, args, env, findings) for w in range(args.workers) if w < args.inputs}
    last_print = time.time()
    seed_cache: list[bytes] = []

    def regenerate(i: int) -> bytes:
        """Mutant i again (deterministic), for a worker that died before it could save it."""
        if not seed_cache:
            seed_cache.extend(p.read_bytes() for p in _seeds())
        return mutant(args.seed, i, seed_cache)

    def retire(wk: _Worker, last_done: int | None) -> None:
        """Count a finished process's inputs: ``last_done`` is the last input it completed (None: none)."""
        if last_done is not None and last_done >= wk.start:
            totals["done"] += (last_done - wk.start) // args.workers + 1
        totals["loaded"] += wk.counts["loaded"]
        totals["reported"] += wk.counts["reported"]
        shutil.rmtree(wk.scratch, ignore_errors=True)

    def handle(wk: _Worker) -> None:
        """Take in every message the worker has written so far (also after it was killed)."""
        for msg in wk.read_messages():
            wk.counts = {"loaded": msg.get("loaded", 0), "reported": msg.get("reported", 0)}
            if msg["kind"] in ("crash", "memory", "timeout"):
                wk.reported.add(msg["i"])
                totals["timeout_candidates" if msg["kind"] == "timeout" else msg["kind"]] += 1
                examples.append({"kind": msg["kind"], "i": msg["i"], "error": msg.get("error", "")})
                if msg["kind"] == "timeout":
                    candidates.append((msg["i"], findings / f"timeout-{args.seed}-{msg['i']}.dcm"))
                print("  FINDING", json.dumps(msg), flush=True)

    while live:
        time.sleep(0.1)
        out_of_time = time.time() - start_time > args.max_seconds
        for w, wk in list(live.items()):
            handle(wk)
            wk.poll_current()
            resume = None
            if wk.proc.poll() is None and (out_of_time or wk.stuck()):
                wk.proc.kill()
                wk.proc.wait()
                handle(wk)  # it may have reported this input itself, late, just before the kill
                wk.poll_current()
                if wk.current not in wk.reported:
                    wk.counts = wk.counts_at_current
                if out_of_time:
                    retire(wk, wk.current - args.workers if wk.current is not None else None)
                elif wk.current in wk.reported:
                    retire(wk, wk.current)
                    resume = wk.current + args.workers
                else:  # the watchdog: a call that never came back to Python
                    _save(findings, "timeout", args.seed, wk.current, regenerate(wk.current), error="watchdog")
                    totals["timeout_candidates"] += 1
                    candidates.append((wk.current, findings / f"timeout-{args.seed}-{wk.current}.dcm"))
                    examples.append({"kind": "timeout", "i": wk.current, "error": "watchdog"})
                    retire(wk, wk.current)
                    resume = wk.current + args.workers
            elif wk.proc.poll() is not None:
                handle(wk)  # whatever was still in the pipe
                code = wk.proc.returncode
                if code not in (0, EXIT_RESTART):  # died without a word: its counts are in the current file
                    wk.poll_current()
                    wk.counts = wk.counts_at_current
                last = (wk.start + (args.inputs - 1 - wk.start) // args.workers * args.workers if code == 0
                        else wk.current)
                if code not in (0, EXIT_RESTART) and wk.current is not None and wk.current not in wk.reported:
                    # the worker died on this input
                    kind = "memory" if code in (-signal.SIGKILL, -signal.SIGABRT) else "crash"
                    _save(findings, kind, args.seed, wk.current, regenerate(wk.current), error=f"worker exit {code}")
                    totals[kind] += 1
                    examples.append({"kind": kind, "i": wk.current, "error": f"worker exit {code}"})
                retire(wk, last if wk.start < args.inputs else None)
                if code != 0 and wk.current is not None:
                    resume = wk.current + args.workers
            else:
                continue
            del live[w]
            if resume is not None and resume < args.inputs and not out_of_time:
                totals["worker_restarts"] += 1
                live[w] = _Worker(w, resume, args, env, findings)
        if time.time() - last_print > 60:
            last_print = time.time()
            running = totals["done"] + sum(((wk.current or wk.start) - wk.start) // args.workers
                                           for wk in live.values())
            print(f"  {running} inputs, {time.time() - start_time:.0f} s "
                  f"({running / (time.time() - start_time):.1f}/s), findings {len(examples)}", flush=True)
    elapsed = time.time() - start_time

    hangs, slow = [], []
    for i, path in candidates:  # alone, in a fresh worker, with nothing else of ours running
        result = replay_in_fresh_process(path, env, hang_s=args.hang_seconds, target=args.target)
        (hangs if result["outcome"] == "hang" else slow).append({"i": i, **result})
        print(f"  timeout replay i={i}: {result['outcome']} in {result['seconds']} s", flush=True)
    totals["hang"], totals["slow_under_load"] = len(hangs), len(slow)
    totals["hang_inputs"], totals["slow_inputs"] = sorted(h["i"] for h in hangs), sorted(s["i"] for s in slow)
    print(json.dumps(totals))
    for example in examples[:20]:
        print("  FINDING", json.dumps(example))
    for s in slow:
        print(f"  slow under load, not a hang: i={s['i']} replayed {s['outcome']} in {s['seconds']} s")
    print(f"{totals['done']} inputs in {elapsed:.0f} s ({totals['done'] / max(elapsed, 1e-9):.1f}/s, "
          f"{args.workers} workers): {totals['crash']} crashes, {totals['hang']} hangs (>{args.hang_seconds:g} s, confirmed by "
          f"replay; {totals['slow_under_load']} timeouts under load passed on replay), {totals['memory']} memory "
          f"blow-ups (> 2 GB); loaded {totals['loaded']}, reported {totals['reported']}; "
          f"{totals['worker_restarts']} worker restarts; seed {args.seed}; findings in {findings}; "
          f"load average {os.getloadavg()}")
    return 1 if totals["crash"] or totals["hang"] or totals["memory"] else 0


def replay(target: str, seed: int, *, hang_s: float = HANG_S, code: str = TARGET) -> int:
    """``--replay``: a mutant index, a saved input file, or a folder of saved inputs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if target.isdigit():
        seeds = _seeds()
        data = mutant(seed, int(target), [p.read_bytes() for p in seeds])
        path = scratch_dir("medstation-fuzz-replay-") / f"mutant-{seed}-{target}.dcm"
        path.write_bytes(data)
        paths = [path]
    else:
        root = Path(target)
        paths = sorted(root.glob("*.dcm")) if root.is_dir() else [root]
    bad = 0
    for path in paths:
        result = replay_in_fresh_process(path, env, hang_s=hang_s, target=code)
        bad += result["outcome"] not in ("loaded", "reported")
        print(json.dumps(result), flush=True)
    print(f"replayed {len(paths)} inputs: {bad} still fail (crash, hang or memory)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="mutants to run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=1, help="run seed (mutant i is fixed by seed and i)")
    parser.add_argument("--max-seconds", type=float, default=7200, help="stop after this long")
    parser.add_argument("--findings", default="", help="folder for the inputs of findings (default: a temporary folder)")
    parser.add_argument("--replay", default=None, metavar="DIR|FILE|I",
                        help="rerun saved inputs (a findings folder or one file), or mutant I of --seed, each in a "
                             "fresh process under the same limits")
    parser.add_argument("--series", default="", help="extra seed folder of DICOM series (default ../shared/data/dicom "
                                                     "beside the checkout, when present)")
    parser.add_argument("--hang-seconds", type=float, default=HANG_S, help="per-input time limit (default 10 s)")
    parser.add_argument("--target", default=TARGET, help="module:function under test (default: the app's index + "
                                                          "load path, tests.fuzz.dicom_targets:exercise)")
    parser.add_argument("--worker", nargs=4, type=int, metavar=("SEED", "START", "STEP", "STOP"), help=argparse.SUPPRESS)
    parser.add_argument("--replay-one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.series:
        os.environ[SERIES_ENV] = str(Path(args.series).resolve())  # the workers and replays inherit it
    if args.worker:
        return worker(*args.worker, Path(args.scratch), Path(args.findings), hang_s=args.hang_seconds,
                      target=args.target)
    if args.replay_one:
        print(json.dumps(replay_one(Path(args.replay_one), hang_s=args.hang_seconds, target=args.target)))
        return 0
    if args.replay is not None:
        return replay(args.replay, args.seed, hang_s=args.hang_seconds, code=args.target)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
