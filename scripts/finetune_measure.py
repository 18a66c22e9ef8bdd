"""Measure LiteMedSAM fine-tuning: held-out Dice before and after, per source, with bootstrap intervals.

Data: the seg2d manifest plus axial slices of the volumes3d NIfTI pairs, imported as one
snapshot with this app's own fixed split (hash of the case key; seg2d: one case per image;
volumes: blocks of ``--block`` slices per case). Trains decoder-only in a child process
(``train-worker``), then scores the base and the fine-tuned model on the *test* split
through the viewer's engine (ONNX Runtime) and reports, per source, mean Dice of each,
the paired difference with its 95 % bootstrap CI over cases and a paired Wilcoxon p.

    MEDSTATION_HOME=/tmp/ft nice -n 19 .venv/bin/python scripts/finetune_measure.py --out /tmp/ft/result.json

Defaults (decoder-only on cached ONNX Runtime embeddings, 3 epochs of at most 25 batches of 8,
validation on at most 150 items) are sized for about 15–25 minutes on 2 quiet cores, most of it
the embedding pass and the test scoring. ``--max-cases-per-source N`` keeps only the first N
cases of each source (whole cases, so no case straddles a split) for a quick check, e.g.
``--max-cases-per-source 4 --epochs 1 --max-steps 1``.

The held-out figures are per source: the mean Dice of the base and the fine-tuned model on the
*test* split (never trained on, never used for choosing epochs), the paired difference over
cases with its 95 % bootstrap interval (``training.stats.paired_summary``), whose lower bound is
printed on its own: "measurably better" means that lower bound is above zero.

Neighbouring 3 mm slices of one volume in different blocks are correlated, so the
volumes3d figure is optimistic about generalisation to new patients; its labels are
TotalSegmentator predictions, not manual masks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = ROOT.parent / "shared" / "data"
    parser.add_argument("--seg2d", default=str(data / "seg2d" / "manifest.json"))
    parser.add_argument("--volumes", default=str(data / "volumes3d"))
    parser.add_argument("--block", type=int, default=4, help="slices per volume case")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=25, help="optimiser steps per epoch (batch 8)")
    parser.add_argument("--max-cases-per-source", type=int, default=None,
                        help="keep only the first N cases of each source (quick checks; default: all)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the trainer's, 1e-4 decoder-only)")
    parser.add_argument("--no-balance", action="store_true",
                        help="draw training items uniformly and pick the epoch by item-mean val Dice (the pre-balance trainer)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.app import build_services
    from medstation.jobs import print_progress_context
    from medstation.training import datasets
    from medstation.training.comparison import ab as compare
    from medstation.training.datasets import sources
    from medstation.training.comparison.stats import paired_summary

    services = build_services(session=UserSession(Actor("measure", Role.admin)))
    ctx = print_progress_context()
    started = time.time()
    services.segmentation.ensure_engine(ctx)
    base = services.registry.active("segmentation")
    items = itertools.chain(sources.seg2d_manifest(ctx, Path(args.seg2d)),
                            sources.nifti_volumes(ctx, sources.nifti_pairs_in(Path(args.volumes)), block=args.block))
    if args.max_cases_per_source is not None:
        items = _cap_cases(items, args.max_cases_per_source)
    version = datasets.build_snapshot(ctx, services.db, services.settings.home, name="seg2d+volumes3d",
                                      kind="segmentation", origin="public", items=items,
                                      filters={"block": args.block})
    print(f"{version.label}: {version.n_cases} cases {version.split_counts}, {version.report['n_items']} items, "
          f"{version.n_excluded} excluded {version.report['excluded_by_reason']}", flush=True)
    run = services.training.queue_segmentation(version.id, epochs=args.epochs, mode="decoder",
                                               max_steps=args.max_steps, flip=False, max_val=150,
                                               balance_sources=not args.no_balance,
                                               **({"lr": args.lr} if args.lr is not None else {}))
    result = services.training.run_queued(ctx, run.id)
    if result["model_version_id"] is None:  # beat nothing: there is no fine-tuned model to score
        print(json.dumps({"outcome": result.get("note"), "metrics": result.get("metrics")}, indent=1))
        services.close()
        return 0
    candidate = services.registry.get(result["model_version_id"])
    rows = datasets.seg_rows(version, ("test",))
    engines = {"base": services.training._engine_for(base), "fine-tuned": services.training._engine_for(candidate)}
    scored = {name: compare.score_segmentation(ctx, engine, rows, 2.0) for name, engine in engines.items()}
    for name in scored:
        for item, row in zip(scored[name], rows):
            item["group"] = row["source"]
    cases = compare.pair_by_case(scored["fine-tuned"], scored["base"], ("dice", "nsd"))
    report = {"dataset": version.label, "split_counts": version.split_counts, "n_test_items": len(rows),
              "run": run.id, "candidate": candidate.id, "training": result["metrics"],
              "history": result["history"], "load_average": os.getloadavg(), "seconds": round(time.time() - started),
              "by_source": {}}
    groups = sorted({c["group"] for c in cases}) + ["all"]
    for group in groups:
        sel = [c for c in cases if group in ("all", c["group"])]
        summary = paired_summary([c["dice_candidate"] for c in sel], [c["dice_baseline"] for c in sel]).to_json()
        report["by_source"][group] = summary
        ci = (f"[{summary['ci_low']:+.3f}, {summary['ci_high']:+.3f}]" if summary["ci_low"] is not None else "(n<2)")
        low = summary["ci_low"]
        verdict = ("n/a (fewer than 2 cases)" if low is None else
                   f"{low:+.3f} ({'above zero: measurably better' if low > 0 else 'not above zero'}"
                   f"{'; under 10 cases, the interval means little' if summary['n'] < 10 else ''})")
        print(f"{group:22s} cases={summary['n']:3d}  Dice before {summary['mean_baseline']:.3f}  after "
              f"{summary['mean_candidate']:.3f}  diff {summary['mean_diff']:+.3f} 95% CI {ci}  p={summary['p_value']}"
              f"  lower bound {verdict}", flush=True)
    # The same scores, grouped by modality, stored as the Admin tab's A/B result (no second inference).
    from medstation.store.tables import ModelComparison

    for name in scored:
        for item, row in zip(scored[name], rows):
            item["group"] = row.get("modality") or row["source"]
    by_modality = compare.pair_by_case(scored["fine-tuned"], scored["base"], ("dice", "nsd"))
    overall, groups = compare._summaries(by_modality, ("dice", "nsd"))
    ab = compare.decide(compare.ComparisonResult("segmentation", candidate.id, base.id, "dice", overall, groups,
                                                 by_modality, notes=["from scripts/finetune_measure.py"]),
                        services.training.config.rule)
    with services.db.session() as s:
        s.add(ModelComparison(kind="segmentation", candidate_id=candidate.id, baseline_id=base.id,
                              dataset_version_id=version.id, recommend_promote=ab.recommend_promote, reason=ab.reason,
                              result=ab.to_json()))
    services.registry.update_metrics(candidate.id, {"ab_dice_diff": round(overall["dice"]["mean_diff"], 4)})
    report["ab_by_modality"] = {"overall": overall, "groups": groups, "reason": ab.reason}
    report["per_item"] = scored
    report["seconds"] = round(time.time() - started)
    Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    print(f"total {report['seconds']} s; load average {os.getloadavg()}; report in {args.out}", flush=True)
    services.close()
    return 0


def _cap_cases(items, cap: int):
    """The items of the first ``cap`` cases of each source, in the sources' own order."""
    cases: dict[str, set] = {}
    for item in items:
        kept = cases.setdefault(item.source, set())
        if item.case_key in kept or len(kept) < cap:
            kept.add(item.case_key)
            yield item


if __name__ == "__main__":
    raise SystemExit(main())
