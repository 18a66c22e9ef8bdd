"""Held-out note likelihood under the base model and base + LoRA adapter, in llama.cpp.

The Notes pipeline lets the model rewrite only a few transcript sentences, so ROUGE-L of its
drafts barely moves with an adapter (``scripts/lora_aci_bench.py``). This script measures what
the adapter itself learned: for each aci-bench *valid* pair, the mean negative log-likelihood per
token (nats) of the reference note given the drafting prompt — the same sequences the training
used (``training.lora_data.build_example``), evaluated by the runtime the app uses (llama.cpp,
with the adapter loaded exactly as the Notes tab loads it). Lower is better; the paired
difference per case gets a 95 % bootstrap interval and a Wilcoxon p (``training.stats``).

    .venv/bin/python scripts/lora_heldout_nll.py --adapter out/lora-aci/adapter.gguf \\
        --csv ../shared/data/aci-bench/valid.csv [--limit 20] [--max-tokens 768]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def note_nll(llama, example) -> float:
    """Mean NLL (nats/token) of ``example``'s target tokens given its prompt."""
    ids = list(example.input_ids)
    llama.reset()
    llama.eval(ids)
    logits = np.asarray(llama.scores[: len(ids)], dtype=np.float64)
    # position t predicts token t + 1
    rows = logits[example.prompt_length - 1: len(ids) - 1]
    targets = np.asarray(ids[example.prompt_length:])
    log_z = np.logaddexp.reduce(rows, axis=1)
    return float(np.mean(log_z - rows[np.arange(len(targets)), targets]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", type=Path, required=True, help="GGUF LoRA adapter to compare with the base")
    parser.add_argument("--csv", type=Path, default=ROOT.parent / "shared" / "data" / "aci-bench" / "valid.csv",
                        help="aci-bench-format CSV of held-out pairs")
    parser.add_argument("--limit", type=int, default=20, help="first N pairs")
    parser.add_argument("--max-tokens", type=int, default=768, help="tokens per sequence (as in training)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--out", type=Path, default=None, help="also write the per-case figures as JSON")
    args = parser.parse_args(argv)

    from llama_cpp import Llama

    from medstation.training.lora.data import build_example, read_aci_bench_pairs
    from medstation.training.lora.model import GGUFTokenizer, default_base_gguf
    from medstation.training.comparison.stats import paired_summary

    base = default_base_gguf()
    tokenizer = GGUFTokenizer(base)
    pairs = read_aci_bench_pairs(args.csv)[: args.limit]
    examples = [build_example(t, n, tokenizer, args.max_tokens) for t, n in pairs]
    started = time.time()
    figures = {}
    for label, lora in (("base", None), ("adapter", args.adapter)):
        extra = {"lora_path": str(lora)} if lora else {}
        llama = Llama(model_path=str(base), n_ctx=args.max_tokens + 64, n_threads=args.threads, logits_all=True,
                      verbose=False, **extra)
        figures[label] = [note_nll(llama, ex) for ex in examples]
        print(f"{label:8s} mean NLL {np.mean(figures[label]):.4f} nats/token "
              f"(perplexity {np.exp(np.mean(figures[label])):.2f}) on {len(examples)} held-out notes", flush=True)
        del llama
    summary = paired_summary(figures["adapter"], figures["base"]).to_json()
    print(f"adapter - base: {summary['mean_diff']:+.4f} nats/token, 95% bootstrap CI "
          f"[{summary['ci_low']:+.4f}, {summary['ci_high']:+.4f}], Wilcoxon p={summary['p_value']:.3g}; "
          f"{sum(a < b for a, b in zip(figures['adapter'], figures['base']))}/{len(examples)} notes more likely; "
          f"{time.time() - started:.0f} s; load average {os.getloadavg()}", flush=True)
    if args.out:
        args.out.write_text(json.dumps({"per_case": figures, "summary": summary, "adapter": str(args.adapter),
                                        "csv": str(args.csv), "load_average": os.getloadavg()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
