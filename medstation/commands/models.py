"""``medstation models list|promote|rollback``: the model registry from the command line.

models list [--kind K]      every version, newest first (id, kind, status, name, sha256, metrics)
models promote ID [--force] make a candidate active; without --force its latest A/B must recommend it
models rollback KIND        reactivate the version the active one replaced

Every change is audited with the acting user. Exit status 2 for a refused action.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="List, promote and roll back model versions.")
    msub = p.add_subparsers(dest="models_action", required=True)
    ls = msub.add_parser("list", help="List model versions, newest first.")
    ls.add_argument("--kind", default=None, choices=("segmentation", "llm", "embedding"), help="only this kind")
    ls.set_defaults(func=run)
    pr = msub.add_parser("promote", help="Make a candidate version the active one of its kind.")
    pr.add_argument("id", type=int, help="model version id")
    pr.add_argument("--force", action="store_true", help="promote without a recommending A/B result (audited)")
    pr.set_defaults(func=run)
    rb = msub.add_parser("rollback", help="Reactivate the version the active one replaced.")
    rb.add_argument("kind", choices=("segmentation", "llm", "embedding"), help="model kind")
    rb.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medstation.app import build_services
    from medstation.errors import UserFacingError

    services = build_services()
    try:
        training = services.training
        if args.models_action == "list":
            for v in training.models(args.kind):
                metric = v.metrics.get("val_dice")
                extra = f"  val Dice {metric}" if metric is not None else ""
                print(f"{v.id:4d}  {v.kind.value:12s} {v.status.value:9s}  {v.name}  sha256 {v.sha256[:12]}"
                      f"  parent {v.parent_id or '-'}{extra}")
        elif args.models_action == "promote":
            info = training.promote(args.id, force=args.force, reason="command line")
            print(f"promoted {info.label()}")
        else:
            info = training.rollback(args.kind, reason="command line")
            print(f"rolled back; active now {info.label()}")
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        services.close()
    return 0
