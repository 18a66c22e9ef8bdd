"""Long crash-safety run: >= 1000 SIGKILLs spread over note/record saves, mask acceptance, ingestion, model registration.

After every kill: PRAGMA integrity_check, the audit hash chain, every journaled
(committed) unit intact and unchanged, no model registered without its complete
file; at the end everything is deep-checked again. Prints the counts, the
elapsed time, the load average and the CPU; exits 1 on any failure.

    .venv/bin/python benchmarks/stress_kill.py --kills 1000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from tests.stress.crash_harness import WORKLOADS, run_kills

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000, help="total kills, split evenly over the workloads")
    parser.add_argument("--seed", type=int, default=1, help="random seed for kill points and content")
    parser.add_argument("--max-delay", type=float, default=0.4, help="longest random wait before each kill, seconds")
    parser.add_argument("--home", default="", help="data folder to hammer (default: a new temporary folder)")
    args = parser.parse_args(argv)
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="medstation-stress-")) / "home"
    per = -(-args.kills // len(WORKLOADS))
    start = time.time()

    def progress(kind, i, report):
        if (i + 1) % 50 == 0:
            print(f"  {kind}: {i + 1}/{per} kills, {len(report.failures)} failures, "
                  f"{time.time() - start:.0f} s", flush=True)

    report = run_kills(home, per, seed=args.seed, max_delay_s=args.max_delay, on_cycle=progress)
    print(report.summary())
    for failure in report.failures[:20]:
        print("  FAIL", failure)
    for exit_ in report.worker_exits[:20]:
        print("  EXIT", exit_)
    print(f"elapsed {time.time() - start:.0f} s; load average {os.getloadavg()}; cpu {platform.processor() or platform.machine()}"
          f" x{os.cpu_count()}; data folder {home}")
    return 1 if report.failures or report.worker_exits else 0


if __name__ == "__main__":
    raise SystemExit(main())
