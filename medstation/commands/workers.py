"""``medstation selftest-worker``: a small child worker for checking the process lane end to end.

It speaks the JSON-lines protocol of :mod:`medstation.worker_protocol` exactly as
a real worker (``train-worker``) does: one progress line and one partial per
step, a result line at the end, logs on stderr. ``--crash-at K`` makes it fail
at step K (a message on stderr, exit status 3), so tests and ``scripts/`` can
see a crash become a failed job with its stderr tail; ``--sleep`` slows it down
enough to be cancelled.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("selftest-worker", help="child worker for testing the process lane (JSON lines on stdout)")
    p.add_argument("--steps", type=int, default=5, help="number of steps to report (default 5)")
    p.add_argument("--crash-at", type=int, default=-1, help="fail at this 0-based step (default: never)")
    p.add_argument("--sleep", type=float, default=0.0, help="seconds to wait per step (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import time

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.worker_protocol import emit_partial, emit_progress, emit_result

    steps = max(0, args.steps)
    for step in range(steps):
        if step == args.crash_at:
            print(f"selftest-worker: deliberate crash at step {step}", file=sys.stderr, flush=True)
            return 3
        time.sleep(args.sleep)
        emit_partial({"step": step, "value": step * step, "pid": os.getpid()})
        emit_progress((step + 1) / steps, f"step {step + 1}/{steps}")
        print(f"selftest-worker: step {step} done", file=sys.stderr, flush=True)
    emit_result({"steps": steps, "sum_of_squares": sum(i * i for i in range(steps))})
    return 0
