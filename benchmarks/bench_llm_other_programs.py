"""Benchmark: chat decode while *other programs* keep cores busy, fixed threads vs adaptive threads.

The app's own background work pauses while an answer streams (``bench_llm_foreground.py``); other
programs do not. With llama.cpp on as many threads as cores, each token waits for a thread that only
gets part of a core. ``LocalLlamaBackend`` therefore samples the runnable tasks outside its process
before each answer and uses fewer threads while other programs run (``medstation/llm/backends/cpu_share.py``).
Here 0, 1 and 2 busy-loop processes run beside the answer; the baseline is the same backend with
``adapt_threads=False`` in the same run.

    .venv/bin/python benchmarks/bench_llm_other_programs.py [--runs 2] [--max-tokens 64] [--busy 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="answers per condition")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="configured llama.cpp threads")
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="busy processes beside the answer")
    args = parser.parse_args(argv)

    from bench_llm_foreground import cpu_flags, ggml_threading

    from medstation.jobs import JobContext
    from medstation.llm.backends.base import GenerationSettings
    from medstation.llm.backends.catalogue import embedded_model_path
    from medstation.llm.backends.local import LocalLlamaBackend

    rows = (ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl").read_text().splitlines()[:3]
    text = "\n\n".join(json.loads(r)["answer"][:800] for r in rows)
    messages = [{"role": "user", "content": text + "\n\nSummarise the text above."}]
    print(f"{args.threads} configured llama.cpp threads ({ggml_threading()}), {os.cpu_count()} CPUs; {cpu_flags()}")
    for busy in args.busy:
        for adapt in (False, True):
            backend = LocalLlamaBackend(embedded_model_path(), n_threads=args.threads, adapt_threads=adapt)
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
            time.sleep(1.0)
            runs = []
            try:
                for _ in range(args.runs):
                    backend.llama.reset()
                    stamps, started = [], time.perf_counter()
                    for _piece in backend.stream_chat(JobContext(), messages, GenerationSettings(max_tokens=args.max_tokens)):
                        stamps.append(time.perf_counter())
                    runs.append((stamps[0] - started, (len(stamps) - 1) / (stamps[-1] - stamps[0]), os.getloadavg()[0]))
            finally:
                for hog in hogs:
                    hog.kill()
                backend.close()
            label = "adaptive" if adapt else "fixed (baseline)"
            print(f"{busy} busy processes, {label:17s} threads used {backend.threads_in_use}: "
                  f"first token {statistics.median(r[0] for r in runs):5.2f} s, "
                  f"decode {statistics.median(r[1] for r in runs):5.1f} tok/s, load average "
                  + ", ".join(f"{r[2]:.1f}" for r in runs), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
