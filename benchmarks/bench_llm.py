"""Benchmark: time to first token and decode speed of a ~1,000-token RAG prompt, ours vs llama.cpp's own.

For the same model, prompt and sampling settings, in one process, alternating:

* **ours** — the full answer job (:func:`medstation.llm.answer.rag_answer.answer_question`):
  prompt building, token budgeting, database writes, streaming through
  ``create_chat_completion`` with ``ctx.check()`` per token;
* **direct** — ``Llama.create_completion`` on the identical rendered prompt,
  streamed, with no wrapper at all;
* **llama.cpp** — the library's own counters (``llama_perf_context``) for the
  direct run: prompt-eval and eval milliseconds; and, for our runs, the same
  counters read inside the run, so our overhead is also shown against the
  compute time of that very run (robust to machine-load swings).

Time to first token (TTFT) is measured from the call to the first streamed
text piece; decode speed is (pieces - 1) / (last piece - first piece).
The KV cache is reset before every run so no run reuses another's prompt.
Peak resident memory (``ru_maxrss``) is reported after loading and at the end.

Usage::

    .venv/bin/python benchmarks/bench_llm.py [--medquad ../shared/data/medquad/medquad.jsonl]
        [--runs 3] [--max-tokens 128] [--threads 2] [--out out/bench_llm.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def load_passages(medquad: Path, backend, target_tokens: int):
    """MedQuAD answers about one topic as ranked passages, until the prompt reaches ~``target_tokens``."""
    from medstation.llm.answer.prompt import build_messages
    from medstation.rag.types import Passage

    passages = []
    with medquad.open() as stream:
        for line in stream:
            row = json.loads(line)
            if "diabetes" not in (row.get("focus") or "").lower():
                continue
            text = " ".join(row["answer"].split())[:1100]
            passages.append(Passage(f"bench-{len(passages)}", row["doc_id"], row.get("focus", ""), row.get("url", ""),
                                    row.get("source", "MedQuAD"), text, 1.0 / (len(passages) + 1), len(passages) + 1))
            tokens = backend.count_chat_tokens(build_messages(QUESTION, passages))
            if tokens >= target_tokens:
                return passages, tokens
    raise SystemExit(f"not enough diabetes rows in {medquad} for a {target_tokens}-token prompt")


QUESTION = "What are the symptoms of type 2 diabetes and how is it treated?"


class _ListKb:
    def __init__(self, passages):
        self.passages = passages

    def search(self, query, k=5, mode="hybrid"):
        return self.passages[:k]

    def is_empty(self):
        return False

    def current_version(self):
        return None


def run_ours(llm, db, kb, generation) -> dict:
    from medstation.jobs import JobContext
    from medstation.llm.answer.rag_answer import answer_question

    import llama_cpp

    llama = llm.backend().llama
    stamps: list[float] = []
    llama.reset()
    llama_cpp.llama_perf_context_reset(llama.ctx)
    start = time.perf_counter()
    ctx = JobContext(on_partial=lambda e: e.kind == "token" and stamps.append(time.perf_counter()))
    answer_question(ctx, llm, kb, db, QUESTION, k=len(kb.passages), generation=generation, answer_mode="generative")
    end = time.perf_counter()
    result = _rates(start, stamps)
    # In-run overhead: our wall time against llama.cpp's own compute time *in the same run*, so the
    # machine's load (which swings decode speed 10x on a shared 2-core box) cancels out.
    perf = llama_cpp.llama_perf_context(llama.ctx)
    result["llama_cpp_prompt_eval_ms"] = perf.t_p_eval_ms
    result["llama_cpp_eval_ms"] = perf.t_eval_ms
    result["ttft_over_prompt_eval"] = result["ttft_s"] / (perf.t_p_eval_ms / 1000) - 1
    result["wall_over_llama_cpp"] = (end - start) / ((perf.t_p_eval_ms + perf.t_eval_ms) / 1000) - 1
    return result


def run_direct(backend, prompt: str, generation) -> dict:
    import llama_cpp

    llama = backend.llama
    llama.reset()
    llama_cpp.llama_perf_context_reset(llama.ctx)
    stamps: list[float] = []
    start = time.perf_counter()
    stream = llama.create_completion(prompt, max_tokens=generation.max_tokens, temperature=generation.temperature,
                                     top_p=generation.top_p, repeat_penalty=generation.repeat_penalty,
                                     seed=generation.seed, stream=True, stop=["<|im_end|>"])
    for chunk in stream:
        if chunk["choices"][0]["text"]:
            stamps.append(time.perf_counter())
    result = _rates(start, stamps)
    perf = llama_cpp.llama_perf_context(llama.ctx)
    result["llama_cpp_prompt_eval_ms"] = perf.t_p_eval_ms
    result["llama_cpp_prompt_tokens"] = perf.n_p_eval
    result["llama_cpp_eval_ms"] = perf.t_eval_ms
    result["llama_cpp_eval_tokens"] = perf.n_eval
    result["llama_cpp_decode_tok_s"] = perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else None
    return result


def _rates(start: float, stamps: list[float]) -> dict:
    if not stamps:
        return {"ttft_s": None, "decode_tok_s": None, "pieces": 0}
    decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else None
    return {"ttft_s": stamps[0] - start, "decode_tok_s": decode, "pieces": len(stamps)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medquad", default=str(ROOT.parent / "shared" / "data" / "medquad" / "medquad.jsonl"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)

    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="bench_llm_")
    from medstation.config import Settings
    from medstation.llm.backends.base import GenerationSettings
    from medstation.llm.backends.catalogue import embedded_model_path
    from medstation.llm.backends.local import LocalLlamaBackend
    from medstation.llm.answer.prompt import build_messages
    from medstation.store.model_registry import ModelRegistry
    from medstation.llm.service import LLMService
    from medstation.access.encryption import open_database

    rss_start = _rss_mb()
    settings = Settings(llm_threads=args.threads, llm_max_tokens=args.max_tokens)
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    loaded_at = time.perf_counter()
    backend = LocalLlamaBackend(embedded_model_path(), n_ctx=settings.llm_n_ctx, n_threads=args.threads)
    load_s = time.perf_counter() - loaded_at
    rss_loaded = _rss_mb()
    llm = LLMService(settings, db, registry=ModelRegistry(db))
    llm.attach_backend(backend)
    llm.model_version_id()  # hash once, as the app does on first use
    passages, prompt_tokens = load_passages(Path(args.medquad), backend, args.prompt_tokens)
    kb = _ListKb(passages)
    generation = GenerationSettings(max_tokens=args.max_tokens)
    prompt = backend.render_prompt(build_messages(QUESTION, passages))

    run_direct(backend, prompt, generation)  # warm-up: page in weights, build the compute graph
    ours, direct = [], []
    for _ in range(args.runs):  # alternate so machine load drifts affect both alike
        direct.append(run_direct(backend, prompt, generation))
        ours.append(run_ours(llm, db, kb, generation))

    def med(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    report = {
        "model": backend.describe(), "threads": args.threads, "prompt_tokens": prompt_tokens,
        "max_tokens": args.max_tokens, "runs": args.runs, "load_s": load_s,
        "ours": {"ttft_s": med(ours, "ttft_s"), "decode_tok_s": med(ours, "decode_tok_s"),
                 "pieces": med(ours, "pieces")},
        "direct": {"ttft_s": med(direct, "ttft_s"), "decode_tok_s": med(direct, "decode_tok_s"),
                   "pieces": med(direct, "pieces")},
        "llama_cpp": {"prompt_eval_s": med(direct, "llama_cpp_prompt_eval_ms") / 1000,
                      "prompt_tokens": med(direct, "llama_cpp_prompt_tokens"),
                      "decode_tok_s": med(direct, "llama_cpp_decode_tok_s")},
        "peak_rss_mb": {"before_load": rss_start, "after_load": rss_loaded, "end": _rss_mb()},
        "raw": {"ours": ours, "direct": direct},
        "load_average": os.getloadavg(),
    }
    report["in_run_overhead"] = {
        "ttft_vs_llama_prompt_eval": med(ours, "ttft_over_prompt_eval"),
        "answer_wall_vs_llama_compute": med(ours, "wall_over_llama_cpp"),
    }
    report["overhead"] = {
        "ttft": report["ours"]["ttft_s"] / report["direct"]["ttft_s"] - 1,
        "decode": 1 - report["ours"]["decode_tok_s"] / report["direct"]["decode_tok_s"],
    }
    print(f"model {report['model']['file']}, {args.threads} threads, prompt {prompt_tokens} tokens, "
          f"up to {args.max_tokens} answer tokens, median of {args.runs} (load average {report['load_average'][0]:.1f})")
    print(f"{'':12}{'TTFT s':>10}{'decode tok/s':>15}")
    for name in ("ours", "direct"):
        print(f"{name:12}{report[name]['ttft_s']:>10.3f}{report[name]['decode_tok_s']:>15.1f}")
    lc = report["llama_cpp"]
    print(f"{'llama.cpp':12}{lc['prompt_eval_s']:>10.3f}{lc['decode_tok_s']:>15.1f}  (own counters: prompt eval, eval)")
    print(f"overhead vs direct: TTFT {report['overhead']['ttft']:+.1%}, decode {report['overhead']['decode']:+.1%}")
    io = report["in_run_overhead"]
    print(f"in-run overhead (ours vs llama.cpp's own counters in the same run): TTFT "
          f"{io['ttft_vs_llama_prompt_eval']:+.1%}, whole answer {io['answer_wall_vs_llama_compute']:+.1%}")
    print(f"peak RSS MB: {report['peak_rss_mb']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    db.close()
    backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
