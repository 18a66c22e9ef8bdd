"""Benchmark: first token and decode rate of the chat model, quiet vs during background embedding, gate off/on.

Three conditions, one process, the same RAG prompt (MedQuAD starter passages)
and greedy settings, alternating, KV cache reset before each run:

* **quiet** — nothing else runs in this process;
* **load, no yield** (before) — a thread embeds knowledge-base chunks with the
  real sentence embedder back to back, as ingestion (or an embedding prefetch)
  did until now;
* **load, yield** (after) — the same thread calls
  ``FOREGROUND.wait_while_busy()`` before each batch, as ingestion now does,
  while the answer streams inside ``FOREGROUND.hold()`` as the answer job does.

Decode rate = (pieces - 1) / (last piece - first piece). Target: decode with
load and yield >= 70 % of quiet. Other processes on the machine are not ours:
the load average is printed beside each figure.

    .venv/bin/python benchmarks/bench_llm_foreground.py [--runs 2] [--max-tokens 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def starter_texts(limit: int) -> list[str]:
    rows = (ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl").read_text().splitlines()
    return [json.loads(r)["answer"][:1100] for r in rows[:limit]]


class EmbeddingLoad:
    """Background embedding batches until stopped; ``yield_to_foreground`` makes it wait while an answer streams."""

    def __init__(self, embedder, texts, yield_to_foreground: bool) -> None:
        self.embedder, self.texts, self.yielding = embedder, texts, yield_to_foreground
        self.stop = threading.Event()
        self.batches = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from medstation.foreground import FOREGROUND

        i = 0
        while not self.stop.is_set():
            if self.yielding:
                FOREGROUND.wait_while_busy()
            batch = [self.texts[(i + j) % len(self.texts)] for j in range(32)]
            self.embedder.encode(batch)
            self.batches += 1
            i += 32

    def __enter__(self):
        self.thread.start()
        time.sleep(1.5)  # let the load reach steady state before the answer starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def one_run(backend, messages, max_tokens: int) -> dict:
    from medstation.foreground import FOREGROUND
    from medstation.jobs import JobContext
    from medstation.llm.backend import GenerationSettings

    backend.llama.reset()
    stamps = []
    started = time.perf_counter()
    with FOREGROUND.hold():
        for _ in backend.stream_chat(JobContext(), messages, GenerationSettings(max_tokens=max_tokens)):
            stamps.append(time.perf_counter())
    decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
    return {"ttft_s": stamps[0] - started if stamps else float("nan"), "decode_tps": decode,
            "pieces": len(stamps), "load1": os.getloadavg()[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per condition")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens per answer")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    args = parser.parse_args(argv)

    from medstation.llm.catalogue import embedded_model_path
    from medstation.llm.local import LocalLlamaBackend
    from medstation.llm.prompt import build_messages
    from medstation.rag.embedder import Embedder
    from medstation.rag.types import Passage

    backend = LocalLlamaBackend(embedded_model_path(), n_ctx=4096, n_threads=args.threads)
    texts = starter_texts(200)
    passages = [Passage(f"b{i}", f"d{i}", "MedQuAD", "", "bench", t, 1.0, i + 1) for i, t in enumerate(texts[:3])]
    messages = build_messages("What are the symptoms and treatments described?", passages)
    embedder = Embedder()
    embedder.encode(texts[:4])  # load the embedding model outside the timings
    flags = open("/proc/cpuinfo").read().split("flags")[1].split("\n")[0] if Path("/proc/cpuinfo").exists() else ""
    print(f"prompt {backend.count_chat_tokens(messages)} tokens, {args.max_tokens} answer tokens, "
          f"{args.threads} llama.cpp threads, {os.cpu_count()} CPUs, avx2={'avx2' in flags}, avx512={'avx512f' in flags}")
    results: dict[str, list[dict]] = {"quiet": [], "load, no yield (before)": [], "load, yield (after)": []}
    for _ in range(args.runs):
        results["quiet"].append(one_run(backend, messages, args.max_tokens))
        with EmbeddingLoad(embedder, texts, yield_to_foreground=False):
            results["load, no yield (before)"].append(one_run(backend, messages, args.max_tokens))
        with EmbeddingLoad(embedder, texts, yield_to_foreground=True) as load:
            results["load, yield (after)"].append(one_run(backend, messages, args.max_tokens))
        print(f"  (yielding load ran {load.batches} batches around the answer)")
    quiet = statistics.median(r["decode_tps"] for r in results["quiet"])
    for name, runs in results.items():
        tps = statistics.median(r["decode_tps"] for r in runs)
        ttft = statistics.median(r["ttft_s"] for r in runs)
        loads = ", ".join(f"{r['load1']:.1f}" for r in runs)
        print(f"{name:26s} first token {ttft:6.2f} s  decode {tps:6.1f} tok/s ({tps / quiet:5.0%} of quiet)  "
              f"load average {loads}")
    backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
