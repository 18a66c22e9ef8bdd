"""A stand-in target with planted faults, to test the fuzz harness itself (benchmarks/fuzz_dicom.py).

The fault is a pure function of the input bytes (:func:`planted_fault`), so a test can
predict every finding of a run. Seed files (read during a worker's warm-up) are left alone.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

#: env var naming a folder where "slow once" inputs leave a mark, so their replay is fast
STATE_ENV = "MEDSTATION_FUZZ_FAULT_STATE"


def planted_fault(data: bytes) -> str:
    """"crash", "hang", "slow_once", "death", "stuck" or "" (no fault), from the input's sha256."""
    return {7: "crash", 11: "hang", 13: "slow_once", 17: "death", 19: "stuck"}.get(
        hashlib.sha256(data).digest()[0] % 48, "")


def exercise(path: Path) -> str:
    if "site-packages" in str(path) or "shared" in Path(path).parts:
        return "reported"
    data = Path(path).read_bytes()
    fault = planted_fault(data)
    if fault == "crash":
        raise ValueError("planted crash")
    if fault == "hang":
        time.sleep(3600)
    if fault == "slow_once":
        mark = Path(os.environ[STATE_ENV]) / hashlib.sha256(data).hexdigest()
        if not mark.exists():
            mark.touch()
            time.sleep(3600)
    if fault == "death":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault == "stuck":  # like a C call that never returns to Python: the alarm cannot interrupt it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        mark = Path(os.environ[STATE_ENV]) / ("stuck-" + hashlib.sha256(data).hexdigest())
        if not mark.exists():
            mark.touch()
            time.sleep(3600)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    return "loaded" if data[:1] == b"\x00" else "reported"
