"""``medstation train ...`` and ``medstation train-worker``: fine-tuning from the command line.

train segmentation --manifest MANIFEST.json [--epochs N] [--mode decoder|full] [--search]
    Imports a seg2d-format manifest (paths relative to it) as a dataset snapshot, trains
    LiteMedSAM in a child process (progress on stderr), registers the result as a
    candidate and prints its model version id alone on the last line of stdout.
    ``--search`` (optional, slower: one child run per grid point) tries learning rate ×
    epochs on the validation split (``training.hparam_search``; grid from ``--search-lr``
    and ``--search-epochs``, default 3 × 2 around the mode's defaults), prints every
    trial on stderr and registers only the best.
train llm --csv ACI_BENCH.csv [--epochs N]
    The same for a LoRA note-drafting adapter (``medstation.training.lora.train``), trained on the
    CSV's training split; ``medstation notes eval ... --model-version ID`` evaluates it.
train-worker --run-id N
    The child process itself (JSON lines on stdout); started by the two commands above
    and by the Admin tab.

Exit status: 0 success, 2 a user error (bad manifest, no usable cases), 1 an internal error.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="Fine-tune a model on a labelled set and register it as a candidate.")
    tsub = p.add_subparsers(dest="train_kind", required=True)
    seg = tsub.add_parser("segmentation", help="Fine-tune LiteMedSAM on a seg2d-format manifest.")
    seg.add_argument("--manifest", required=True, help="manifest.json (rows with image, mask, bbox_xyxy; paths relative to it)")
    seg.add_argument("--epochs", type=int, default=None, help="epochs (default from settings: 6)")
    seg.add_argument("--mode", choices=("decoder", "full"), default="decoder",
                     help="decoder = train the mask decoder on cached embeddings (default); full = the whole model")
    seg.add_argument("--name", default=None, help="dataset name (default: seg2d-<manifest folder>)")
    seg.add_argument("--search", action="store_true",
                     help="search learning rate x epochs on the validation split; register only the best trial")
    seg.add_argument("--search-lr", default=None,
                     help="comma-separated learning rates for --search (default: the mode's default /3, x1, x3)")
    seg.add_argument("--search-epochs", default=None,
                     help="comma-separated epoch counts for --search (default: half of --epochs, and --epochs)")
    seg.set_defaults(func=run_segmentation)
    llm = tsub.add_parser("llm", help="Train a LoRA note-drafting adapter on an aci-bench CSV.")
    llm.add_argument("--csv", required=True, help="aci-bench CSV (columns dataset, encounter_id, dialogue, note)")
    llm.add_argument("--epochs", type=int, default=1, help="epochs over the training split (default 1)")
    llm.set_defaults(func=run_llm)

    w = sub.add_parser("train-worker", help="(internal) run one queued training run; JSON lines on stdout")
    w.add_argument("--run-id", type=int, required=True, help="training_run id to execute")
    w.set_defaults(func=run_worker)


def _require_training() -> None:
    """The inference bundle has no torch: say so in one sentence instead of an import traceback."""
    from medstation.errors import UserFacingError
    from medstation.training.availability import training_unavailable_reason

    reason = training_unavailable_reason()
    if reason:
        raise UserFacingError(reason)


def _services():
    _require_training()
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.app import build_services

    return build_services()


def _stderr_context():
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import print_progress_context

    return print_progress_context(sys.stderr)


def run_segmentation(args: argparse.Namespace) -> int:
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.errors import UserFacingError

    services = _services()
    try:
        training = services.training
        ctx = _stderr_context()
        version = training.import_seg2d(ctx, Path(args.manifest), args.name)
        print(f"dataset {version.label}: {version.n_cases} cases {version.split_counts}, "
              f"{version.n_excluded} excluded", file=sys.stderr)
        if version.report.get("excluded_by_reason"):
            print(f"excluded: {version.report['excluded_by_reason']}", file=sys.stderr)
        if args.search:
            result = _search(training, ctx, version.id, args)
        else:
            run = training.queue_segmentation(version.id, epochs=args.epochs, mode=args.mode)
            print(f"training run #{run.id} ({run.params['mode']}, {run.params['epochs']} epochs)", file=sys.stderr)
            result = training.run_queued(ctx, run.id)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        services.close()
    metrics = result.get("metrics", {})
    print(f"validation Dice {metrics.get('baseline_val_dice')} -> {metrics.get('val_dice')} "
          f"(best epoch {metrics.get('best_epoch')})", file=sys.stderr)
    if result.get("note"):
        print(result["note"], file=sys.stderr)
    if result["model_version_id"] is not None:  # a run that beat nothing registers nothing (said above)
        print(result["model_version_id"])
    return 0


def _search(training, ctx, dataset_version_id: int, args) -> dict:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.training.litemedsam.search import parse_list

    lrs = parse_list(args.search_lr, float) if args.search_lr else None
    epochs = parse_list(args.search_epochs, int) if args.search_epochs else None
    result = training.search_segmentation(ctx, dataset_version_id, epochs=args.epochs, mode=args.mode, lrs=lrs,
                                          epoch_counts=epochs)
    print("search trials (validation split only):", file=sys.stderr)
    for t in result["search"]["trials"]:
        outcome = (f"val Dice {t['baseline_val_dice']} -> {t['val_dice']} (best epoch {t['best_epoch']})"
                   if t["status"] == "succeeded" else f"FAILED: {t['error'].strip().splitlines()[-1][:160]}")
        print(f"  trial {t['index']}: lr {t['lr']:g}, {t['epochs']} epochs, run #{t['run_id']}, "
              f"{t['seconds']:.0f} s: {outcome}", file=sys.stderr)
    best = result["search"]["best"]
    print(f"best: trial {best['index']} (lr {best['lr']:g}, {best['epochs']} epochs); only it is registered",
          file=sys.stderr)
    return result


def run_llm(args: argparse.Namespace) -> int:
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.errors import UserFacingError

    services = _services()
    try:
        training = services.training
        ctx = _stderr_context()
        version = training.import_aci_csv(ctx, Path(args.csv))
        print(f"dataset {version.label}: {version.n_cases} cases {version.split_counts}, "
              f"{version.n_excluded} excluded", file=sys.stderr)
        run = training.queue_llm(version.id, epochs=args.epochs)
        print(f"training run #{run.id} (LoRA, {args.epochs} epoch(s))", file=sys.stderr)
        result = training.run_queued(ctx, run.id)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        services.close()
    if result.get("note"):
        print(f"stopped early: {result['note']}", file=sys.stderr)
    print(result["model_version_id"])
    return 0


def run_worker(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.training.worker import main

    return main(args.run_id)
