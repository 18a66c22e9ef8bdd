"""``medstation models list|promote|rollback``: the model registry from the command line.

models list [--kind K]      every version, newest first (id, kind, status, name, sha256, metrics)
models compare ID [--dataset-version N] [--csv ACI.csv] [--limit N]
                            A/B of a candidate against the active version on held-out cases (segmentation:
                            the test split; LLM: the test split of signed notes, or an aci-bench CSV),
                            stored as the comparison the promotion gate reads; prints the verdict
models promote ID [--force --reason TEXT]
                            make a candidate active; without --force (segmentation and LLM) its latest
                            A/B must recommend it; --force needs a reason, and both are audited
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
    cp = msub.add_parser("compare", help="A/B a candidate against the active version on held-out cases.")
    cp.add_argument("id", type=int, help="candidate model version id")
    cp.add_argument("--dataset-version", type=int, default=None,
                    help="dataset version whose test split to use (default: the one the candidate was trained on)")
    cp.add_argument("--csv", default=None, help="LLM only: compare on every row of this aci-bench CSV instead")
    cp.add_argument("--limit", type=int, default=None, help="LLM only: at most this many held-out notes")
    cp.set_defaults(func=run)
    pr = msub.add_parser("promote", help="Make a candidate version the active one of its kind.")
    pr.add_argument("id", type=int, help="model version id")
    pr.add_argument("--force", action="store_true", help="promote without a recommending A/B result (audited)")
    pr.add_argument("--reason", default="", help="why (required with --force; written to the audit log)")
    pr.set_defaults(func=run)
    rb = msub.add_parser("rollback", help="Reactivate the version the active one replaced.")
    rb.add_argument("kind", choices=("segmentation", "llm", "embedding"), help="model kind")
    rb.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
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
        elif args.models_action == "compare":
            from pathlib import Path

            from medstation.jobs import print_progress_context

            comparison_id, result = training.compare(print_progress_context(sys.stderr), args.id,
                                                     dataset_version_id=args.dataset_version,
                                                     csv_path=Path(args.csv) if args.csv else None, limit=args.limit)
            for name, summary in result.overall.items():
                ci = (f"[{summary['ci_low']:+.4f}, {summary['ci_high']:+.4f}]" if summary["ci_low"] is not None
                      else "(n<2)")
                print(f"{name:16s} candidate {summary['mean_candidate']:.4f}  active {summary['mean_baseline']:.4f}  "
                      f"diff {summary['mean_diff']:+.4f} 95% CI {ci}  Wilcoxon p={summary['p_value']}  n={summary['n']}")
            for note in result.notes:
                print(f"note: {note}")
            print(f"comparison #{comparison_id}: {result.reason}")
        elif args.models_action == "promote":
            info = training.promote(args.id, force=args.force,
                                    reason=args.reason or ("" if args.force else "command line"))
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
