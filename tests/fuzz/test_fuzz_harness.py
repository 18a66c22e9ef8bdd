"""The long fuzz harness (benchmarks/fuzz_dicom.py) itself: planted faults are all found, counted and saved.

Runs the real harness as a subprocess on the planted-fault target (tests/fuzz/fault_targets.py)
with a 0.5 s limit: crashes, deaths (SIGSEGV), alarm timeouts, a call that blocks the alarm
(the parent's watchdog), and timeouts that pass on replay ("slow under load", not hangs).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.fuzz.fault_targets import STATE_ENV, planted_fault

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "benchmarks" / "fuzz_dicom.py"
pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_AS, SIGALRM and SIGSEGV"),
              pytest.mark.slow]  # about ten worker processes start (each imports pydicom): tens of seconds


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_dicom", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_planted_faults_are_found_saved_and_replayed(tmp_path):
    fuzz = _harness()
    inputs = 60
    seed_bytes = [p.read_bytes() for p in fuzz._seeds()]
    for seed in range(1, 200):  # the first run seed that plants each kind of fault once or twice (kept short)
        planted = {i: planted_fault(fuzz.mutant(seed, i, seed_bytes)) for i in range(inputs)}
        kinds = Counter(planted.values())
        if all(1 <= kinds[k] <= 2 for k in ("crash", "hang", "slow_once", "death", "stuck")):
            break
    else:
        pytest.fail("no run seed plants every kind of fault")
    where = lambda *faults: {i for i, f in planted.items() if f in faults}  # noqa: E731

    (tmp_path / "state").mkdir()
    env = {**os.environ, STATE_ENV: str(tmp_path / "state"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(HARNESS), "--inputs", str(inputs), "--workers", "2", "--seed", str(seed),
           "--hang-seconds", "1", "--target", "tests.fuzz.fault_targets:exercise", "--findings", str(tmp_path / "f")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    totals = json.loads(next(line for line in done.stdout.splitlines() if line.startswith('{"done"')))
    assert done.returncode == 1, done.stdout[-2000:]
    assert totals["done"] == inputs
    saved = [json.loads(line) for line in (tmp_path / "f" / "findings.jsonl").read_text().splitlines()]
    assert {f["i"] for f in saved if f["kind"] == "crash"} == where("crash", "death")  # raised, or SIGSEGV
    assert totals["crash"] == len(where("crash", "death"))
    assert set(totals["hang_inputs"]) == where("hang")  # still over the limit alone in a fresh worker
    # passed on replay: the planted slow-once inputs, the one the watchdog killed, and any input
    # the machine's own load pushed past 1 s
    assert where("slow_once", "stuck") <= set(totals["slow_inputs"])
    assert not set(totals["slow_inputs"]) & where("hang", "crash", "death")
    assert {f["i"] for f in saved if f["kind"] == "timeout"} == set(totals["hang_inputs"]) | set(totals["slow_inputs"])
    assert totals["loaded"] + totals["reported"] == inputs - totals["crash"] - totals["timeout_candidates"]
    assert all((tmp_path / "f" / f["file"]).read_bytes() == fuzz.mutant(seed, f["i"], seed_bytes) for f in saved)

    replay = subprocess.run([sys.executable, str(HARNESS), "--replay", str(tmp_path / "f"), "--hang-seconds", "1",
                             "--target", "tests.fuzz.fault_targets:exercise"],
                            capture_output=True, text=True, env=env, timeout=300)
    outcomes = Counter(json.loads(line)["outcome"] for line in replay.stdout.splitlines() if line.startswith("{"))
    assert outcomes["hang"] == len(where("hang")) and outcomes["crash"] == len(where("crash", "death"))
    assert replay.returncode == 1
