"""Train the LoRA drafting adapter on aci-bench train, then ROUGE-L of the minimal drafting call on valid.

Usage::

    .venv/bin/python scripts/lora_aci_bench.py train --data ../shared/data/aci-bench --out out/lora-aci
        [--epochs 1] [--max-tokens 768] [--max-seconds 900]
    .venv/bin/python scripts/lora_aci_bench.py eval --data ../shared/data/aci-bench --out out/lora-aci
        [--adapter out/lora-aci/adapter.gguf] [--limit N]

``eval`` without ``--adapter`` scores the base model (``before.json``), with it the adapter
(``after.json``); once both exist it writes ``comparison.json`` with the paired bootstrap interval.
Figures are measured under whatever load the machine has: the load average is stored beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["train", "eval"], help="train on train.csv or score drafts on valid.csv")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "aci-bench",
                        help="folder with aci-bench train.csv and valid.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the adapter and the JSON results")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    parser.add_argument("--max-tokens", type=int, default=768, help="tokens per training sequence")
    parser.add_argument("--max-seconds", type=float, default=900, help="training-loop time budget in seconds")
    parser.add_argument("--adapter", type=Path, default=None, help="GGUF LoRA adapter to score (default: base model)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N valid rows")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="tokens generated per note")
    args = parser.parse_args()

    from medstation.jobs import print_progress_context
    from medstation.training.lora_data import read_aci_bench_pairs

    args.out.mkdir(parents=True, exist_ok=True)
    ctx = print_progress_context()
    load_before = os.getloadavg()
    if args.action == "train":
        from medstation.training.lora import train_lora

        pairs = read_aci_bench_pairs(args.data / "train.csv")
        result = train_lora(ctx, pairs, args.out, epochs=args.epochs, max_tokens=args.max_tokens,
                            max_seconds=args.max_seconds)
        summary = {"metrics": result.metrics(), "hyperparameters": result.hyperparameters(),
                   "load_average_before": load_before, "load_average_after": os.getloadavg()}
        (args.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary, indent=1))
        return 0
    from medstation.training.lora_eval import draft_and_score, paired_difference

    pairs = read_aci_bench_pairs(args.data / "valid.csv")[: args.limit]
    score = draft_and_score(ctx, pairs, adapter_path=args.adapter, max_new_tokens=args.max_new_tokens)
    name = "after" if args.adapter else "before"
    (args.out / f"{name}.json").write_text(json.dumps(
        {"adapter": score.adapter, "rouge_l_mean": score.mean, "rouge_l": score.rouge_l, "drafts": score.drafts,
         "seconds": score.seconds, "cases": len(pairs), "load_average_before": load_before,
         "load_average_after": os.getloadavg()}, indent=1))
    print(f"{name}: ROUGE-L {score.mean:.4f} on {len(pairs)} cases in {score.seconds:.0f} s")
    files = {n: args.out / f"{n}.json" for n in ("before", "after")}
    if all(f.is_file() for f in files.values()):
        from medstation.training.lora_eval import DraftingScore

        loaded = {n: json.loads(f.read_text()) for n, f in files.items()}
        scores = {n: DraftingScore(adapter=d["adapter"], rouge_l=tuple(d["rouge_l"]), drafts=(), seconds=d["seconds"])
                  for n, d in loaded.items()}
        if len(scores["before"].rouge_l) == len(scores["after"].rouge_l):
            comparison = {"before": scores["before"].mean, "after": scores["after"].mean,
                          **paired_difference(scores["before"], scores["after"])}
            (args.out / "comparison.json").write_text(json.dumps(comparison, indent=1))
            print(json.dumps(comparison, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
