"""``medstation train-agent [--once] [--kinds segmentation,llm]``: this machine trains the clinic's queued runs.

Runs on any machine with the training dependencies (e.g. one with a GPU) and the clinic
settings (``database_url``, ``shared_data_root``): it claims queued runs from the database,
heartbeats while training, uploads each candidate to the shared root and registers it
(:mod:`medstation.training.agent`). ``--once``: at most one run, then exit (0 also when none waited).
"""

from __future__ import annotations

import argparse
import sys

KINDS = ("segmentation", "llm")


def add_parser(sub) -> None:
    p = sub.add_parser("train-agent", help="claim and run queued training runs from the clinic database "
                                           "(heartbeats; the candidate goes to the shared root)")
    p.add_argument("--once", action="store_true", help="run at most one queued run, then exit")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated run kinds to take (default: all)")
    p.add_argument("--heartbeat", type=float, default=5.0, help="seconds between heartbeats (default 5)")
    p.add_argument("--stale-after", type=float, default=60.0,
                   help="requeue runs whose agent has not heartbeaten for this many seconds (default 60)")
    p.add_argument("--poll", type=float, default=10.0, help="seconds between looks at an empty queue (default 10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.access.encryption import open_store
    from medstation.store.model_registry import ModelRegistry
    from medstation.training.agent.agent import TrainingAgent

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    settings = Settings()
    try:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            raise UserFacingError(f"--kinds takes {', '.join(KINDS)} (comma-separated), not {args.kinds!r}.")
        if not settings.database_url:
            print("medstation train-agent: no database_url is set: training this workstation's own queue "
                  "(clinic mode: docs/CLINIC.md).", file=sys.stderr)
        settings.ensure_dirs()
        db = open_store(settings)
    except UserFacingError as exc:
        print(f"medstation train-agent: {exc}", file=sys.stderr)
        return exc.exit_code
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    agent = TrainingAgent(db, ModelRegistry(db), settings.shared_data_root, kinds=kinds,
                          heartbeat_s=args.heartbeat, stale_after_s=args.stale_after)
    try:
        done = agent.serve(once=args.once, poll_s=args.poll)
    except KeyboardInterrupt:
        done = []
    finally:
        db.close()
    print(f"train-agent {agent.identity.name}: ran {len(done)} run(s) {done}")
    return 0
