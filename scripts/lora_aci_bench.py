"""Train the LoRA drafting adapter on aci-bench train, then the Notes pipeline's ROUGE-L on aci-bench valid before/after.

Usage (the full measurement, about 25 minutes on 2 quiet cores: training stops at ``--max-seconds``,
then 2 × 20 valid drafts of at most ``--budget-s`` model seconds each)::

    nice -n 19 .venv/bin/python scripts/lora_aci_bench.py all --data ../shared/data/aci-bench --out out/lora-aci

    ... train   --out DIR [--epochs 1] [--max-tokens 768] [--max-seconds 600] [--limit-train N]
    ... eval    --out DIR [--adapter DIR/adapter.gguf] [--limit N] [--budget-s 20] [--max-rewrites 3]

"Before" drafts every valid row with the base model (the embedded SmolLM2), "after" with the same base
plus the adapter, both through the Notes pipeline exactly as the Notes tab runs it
(:class:`medstation.training.comparison.notes.PipelineDrafter`: evidence selection, at most
``--max-rewrites`` model rewrites per section within ``--budget-s`` seconds, fact checks, SOAP
template). ROUGE-L F1 (rouge-score, stemming) of each draft against the reference note; the paired
difference (after − before) per case with its 95 % bootstrap interval and a paired Wilcoxon p
(``training.stats.paired_summary``). ``comparison.json`` holds everything; the load average is
stored beside the figures (the machine may be shared).

Because the pipeline keeps transcript sentences and lets the model only rewrite a few of them,
the adapter can move ROUGE-L only as far as those rewrites reach: a small difference is expected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train(args, ctx) -> Path:
    from medstation.training.lora.train import train_lora
    from medstation.training.lora.data import read_aci_bench_pairs

    pairs = read_aci_bench_pairs(args.data / "train.csv")[: args.limit_train]
    load_before = os.getloadavg()
    result = train_lora(ctx, pairs, args.out, epochs=args.epochs, max_tokens=args.max_tokens,
                        max_seconds=args.max_seconds, max_steps=args.max_steps, threads=args.threads)
    summary = {"metrics": result.metrics(), "hyperparameters": result.hyperparameters(), "pairs": len(pairs),
               "load_average_before": load_before, "load_average_after": os.getloadavg()}
    (args.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1), flush=True)
    return Path(result.adapter_path)


def _draft_all(ctx, drafter, rows, label: str) -> dict:
    from medstation.training.comparison.stats import rouge_l

    start, scores, drafts, fallbacks = time.perf_counter(), [], [], 0
    try:
        for n, row in enumerate(rows):
            out = drafter(ctx, row)
            drafts.append(out.text)
            fallbacks += out.fallback
            scores.append(rouge_l(out.text, row["note"]))
            print(f"{label}: case {n + 1}/{len(rows)} ROUGE-L {scores[-1]:.4f} ({out.seconds:.0f} s"
                  f"{', FELL BACK to quotes' if out.fallback else ''})", file=sys.stderr, flush=True)
    finally:
        drafter.close()
    return {"rouge_l": scores, "mean": sum(scores) / len(scores), "drafts": drafts, "fallback_drafts": fallbacks,
            "seconds": round(time.perf_counter() - start, 1)}


def evaluate(args, ctx, adapter: Path | None) -> int:
    from medstation.config import Settings
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.model_choice import ModelChoice
    from medstation.training.comparison.notes import PipelineDrafter, aci_csv_rows
    from medstation.training.lora.model import default_base_gguf
    from medstation.training.comparison.stats import paired_summary

    settings = Settings()
    base = default_base_gguf()
    rows = aci_csv_rows(args.data / "valid.csv", args.limit)
    options = DraftOptions(max_rewrites=args.max_rewrites, budget_s=args.budget_s)
    load_before = os.getloadavg()
    runs = {"before": ModelChoice(None, base.stem, base)}
    if adapter is not None:
        if not adapter.is_file():
            raise SystemExit(f"no adapter at {adapter}")
        runs["after"] = ModelChoice(None, f"{base.stem} + {adapter.name}", base, adapter)
    results = {}
    for name, choice in runs.items():
        drafter = PipelineDrafter(choice, settings, options=options, default_template=args.template)
        results[name] = {**_draft_all(ctx, drafter, rows, name), "model": choice.describe()}
        (args.out / f"{name}.json").write_text(json.dumps(results[name], indent=1))
        print(f"{name}: Notes pipeline ROUGE-L {results[name]['mean']:.4f} on {len(rows)} valid cases "
              f"({results[name]['fallback_drafts']} fell back) in {results[name]['seconds']:.0f} s", flush=True)
    if "after" in results:
        summary = paired_summary(results["after"]["rouge_l"], results["before"]["rouge_l"]).to_json()
        comparison = {"cases": len(rows), "before": summary["mean_baseline"], "after": summary["mean_candidate"],
                      "difference": summary["mean_diff"], "ci95": [summary["ci_low"], summary["ci_high"]],
                      "wilcoxon_p": summary["p_value"], "pipeline": "medstation.notes.drafting.draft_note",
                      "options": {"max_rewrites": options.max_rewrites, "budget_s": options.budget_s,
                                  "template": args.template},
                      "load_average_before": load_before, "load_average_after": os.getloadavg()}
        (args.out / "comparison.json").write_text(json.dumps(comparison, indent=1))
        ci = (f"[{summary['ci_low']:+.4f}, {summary['ci_high']:+.4f}]" if summary["ci_low"] is not None else "(n<2)")
        print(f"ROUGE-L before {summary['mean_baseline']:.4f} -> after {summary['mean_candidate']:.4f}: "
              f"difference {summary['mean_diff']:+.4f}, 95% bootstrap CI {ci}, Wilcoxon p={summary['p_value']}, "
              f"{len(rows)} cases", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["all", "train", "eval"], default="all",
                        help="all (default): train, then score before and after; train; or eval only")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "aci-bench",
                        help="folder with aci-bench train.csv and valid.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the adapter and the JSON results")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    parser.add_argument("--max-tokens", type=int, default=768, help="tokens per training sequence")
    parser.add_argument("--max-seconds", type=float, default=600, help="training-loop time budget in seconds")
    parser.add_argument("--max-steps", type=int, default=None, help="cap on training steps (smoke runs)")
    parser.add_argument("--limit-train", type=int, default=None, help="train on only the first N train rows")
    parser.add_argument("--adapter", type=Path, default=None,
                        help="eval: the adapter to score (default: OUT/adapter.gguf when it exists)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N valid rows")
    parser.add_argument("--template", default="soap", help="template the pipeline drafts (default soap)")
    parser.add_argument("--max-rewrites", type=int, default=3, help="model rewrites per section (as the Notes tab)")
    parser.add_argument("--budget-s", type=float, default=20.0, help="model seconds per draft at most")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    args = parser.parse_args()

    from medstation.jobs import print_progress_context

    args.out.mkdir(parents=True, exist_ok=True)
    ctx = print_progress_context()
    started = time.perf_counter()
    adapter = args.adapter
    if args.action in ("all", "train"):
        adapter = train(args, ctx)
        if args.action == "train":
            return 0
    if adapter is None and (args.out / "adapter.gguf").is_file():
        adapter = args.out / "adapter.gguf"
    code = evaluate(args, ctx, adapter)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
