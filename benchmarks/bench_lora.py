"""Benchmark: LoRA training speed (tokens/s) of the embedded SmolLM2-135M on CPU, beside baselines.

In one process, on the same aci-bench training sequences (cut to ``--max-tokens`` as the job cuts them):

* **lora step** — what ``train_lora`` does per pair: forward, note-token loss, backward into the
  LoRA weights, AdamW step (timed inside the real job through its per-step partial results);
* **forward only** — the same torch model and sequences without gradients: the floor a training
  step cannot beat, so the ratio says what backward and the optimizer cost;
* **llama.cpp prompt eval** — the same token sequences through llama.cpp (Q4_1), the runtime the
  adapter is used in.

Tokens/s counts every token of the sequence (prompt + note). Printed with the CPU model, its
SIMD flags, the thread count and the load average before and after (the machine may be shared).

Usage::

    .venv/bin/python benchmarks/bench_lora.py [--csv ../shared/data/aci-bench/train.csv] [--steps 6]
        [--max-tokens 768] [--threads 2] [--out out/bench_lora.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_description() -> dict:
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ["avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile", "f16c"]
    return {"model": model, "flags": [f for f in wanted if f in flags], "cores_visible": os.cpu_count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT.parent / "shared" / "data" / "aci-bench" / "train.csv",
                        help="aci-bench-format CSV whose (dialogue, note) rows are the training pairs")
    parser.add_argument("--steps", type=int, default=6, help="training steps (one pair each) to time")
    parser.add_argument("--max-tokens", type=int, default=768, help="tokens per training sequence")
    parser.add_argument("--threads", type=int, default=2, help="torch / llama.cpp threads")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()

    import torch
    from llama_cpp import Llama

    from medstation.jobs import JobContext
    from medstation.training.lora.train import train_lora
    from medstation.training.lora.data import build_example, read_aci_bench_pairs
    from medstation.training.lora.model import GGUFTokenizer, default_base_gguf, load_base_model

    pairs = read_aci_bench_pairs(args.csv)[: args.steps]
    base = default_base_gguf()
    load_start = os.getloadavg()

    steps: list[dict] = []
    with tempfile.TemporaryDirectory() as out:
        result = train_lora(JobContext(on_partial=steps.append), pairs, out, max_tokens=args.max_tokens,
                            max_steps=args.steps, max_seconds=None, threads=args.threads)
    lora_tps = result.tokens_per_second

    tokenizer = GGUFTokenizer(base)
    sequences = [build_example(t, n, tokenizer, args.max_tokens).input_ids for t, n in pairs]
    tokenizer.close()
    torch.set_num_threads(args.threads)
    model = load_base_model(base)
    start = time.perf_counter()
    with torch.no_grad():
        for ids in sequences:
            model.model(input_ids=torch.tensor([ids]))
    forward_tps = sum(map(len, sequences)) / (time.perf_counter() - start)
    del model

    llama = Llama(model_path=str(base), n_ctx=args.max_tokens + 64, n_batch=512, n_threads=args.threads,
                  verbose=False)
    start = time.perf_counter()
    for ids in sequences:
        llama.reset()
        llama.eval(list(ids))
    llama_tps = sum(map(len, sequences)) / (time.perf_counter() - start)
    llama.close()

    figures = {
        "lora_training_tokens_per_second": round(lora_tps, 1),
        "lora_training_note_tokens_per_second": round(result.target_tokens_seen / result.seconds, 1),
        "forward_only_tokens_per_second": round(forward_tps, 1),
        "llama_cpp_prompt_eval_tokens_per_second": round(llama_tps, 1),
        "steps": result.steps, "mean_sequence_tokens": round(result.tokens_seen / result.steps, 1),
        "seconds_per_step": round(result.seconds / result.steps, 2),
        "projected_minutes_for_67_pairs_one_epoch": round(67 * result.seconds / result.steps / 60, 1),
        "rank": result.rank, "modules": list(result.modules), "max_tokens": args.max_tokens,
        "threads": args.threads, "cpu": cpu_description(),
        "load_average_before": load_start, "load_average_after": os.getloadavg(),
    }
    print(json.dumps(figures, indent=1))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
