"""Benchmark: time to first drafted token and full SOAP draft time for a 1,200-word transcript, default model.

For one transcript of about 1,200 words (the first aci-bench dialogue turns, whole
turns, or a built-in therapy session repeated when the data set is absent):

* **pipeline** — :func:`medstation.notes.drafting.draft_note` with the default
  options (evidence selection, up to 3 model rewrites per section, checks);
  *first drafted token* = first streamed piece of note text (sentence or model
  token), *first model token* = first piece the LLM produced;
* **baseline: extractive only** — the same pipeline with the model off;
* **baseline: llama.cpp direct** — ``create_chat_completion`` on the first
  rewrite prompt, streamed, no wrapper: its time to first token and total.

The model loads once (its load time is printed separately). Peak resident
memory (``ru_maxrss``), CPU flags and the load average are printed with the
figures. Targets: first token < 5 s, full draft < 30 s on 2 cores.

    .venv/bin/python benchmarks/bench_notes.py [--csv ../shared/data/aci-bench/valid.csv] [--runs 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FALLBACK_SESSION = """Therapist: How have the last two weeks been?
Client: I have been feeling anxious at work most days and I wake up at four in the morning.
Client: My mind races about the deadlines and I can't get back to sleep, so I am exhausted by the afternoon.
Therapist: I think this is consistent with generalized anxiety with worsening sleep over this month.
Therapist: We will keep working on the worry log and I want you to practice the breathing every night.
"""


def transcript_text(csv_path: Path, words: int) -> tuple[str, str]:
    if csv_path.is_file():
        csv.field_size_limit(50_000_000)
        with csv_path.open(newline="") as fh:
            dialogue = next(csv.DictReader(fh))["dialogue"]
        source = f"{csv_path.name} row 0"
    else:
        dialogue, source = FALLBACK_SESSION * 20, "built-in session repeated"
    out, n = [], 0
    for line in dialogue.splitlines():
        if n >= words:
            break
        out.append(line)
        n += len(line.split()) - 1  # minus the speaker prefix
    return "\n".join(out), source


def cpu_flags() -> str:
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split(":")[1].split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
    return " ".join(f for f in wanted if f in flags)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", default=str(ROOT.parent / "shared" / "data" / "aci-bench" / "valid.csv"))
    p.add_argument("--words", type=int, default=1200)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)

    from medstation.jobs import JobContext
    from medstation.llm.backends.catalogue import embedded_model_path
    from medstation.llm.backends.local import LocalLlamaBackend
    from medstation.notes import rewrite
    from medstation.notes.drafting import DraftOptions, draft_note
    from medstation.notes.evidence import select_evidence
    from medstation.notes.templates import SOAP
    from medstation.notes.transcript import SpeakerRole, parse_transcript

    text, source = transcript_text(Path(args.csv), args.words)
    transcript = parse_transcript(text, "bench.txt")
    model = embedded_model_path()
    t = time.perf_counter()
    backend = LocalLlamaBackend(model, n_ctx=2048, n_threads=args.threads, name=model.stem)
    load_s = time.perf_counter() - t
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def run(use_model: bool) -> dict:
        marks = {}
        start = time.perf_counter()

        def on_partial(event) -> None:
            if event.kind in ("sentence", "token") and "first" not in marks:
                marks["first"] = time.perf_counter() - start

        ctx = JobContext(on_partial=on_partial)
        backend.llama.reset()
        draft = draft_note(ctx, transcript, SOAP, backend_factory=lambda: backend,
                           options=DraftOptions(use_model=use_model))
        return {"first_drafted_token_s": marks.get("first"), "full_draft_s": time.perf_counter() - start,
                "first_model_token_s": draft.provenance.timings.get("first_model_token_s"),
                "rewrites": draft.provenance.checks["rewrites_accepted"] + draft.provenance.checks["rewrites_rejected"],
                "sentences": sum(1 for _ in draft.sentences())}

    def direct() -> dict:
        unit = next(u for ev in select_evidence(transcript, SOAP) for u in ev.units if u.role is SpeakerRole.client)
        backend.llama.reset()
        start, first = time.perf_counter(), None
        for chunk in backend.llama.create_chat_completion(messages=rewrite.rewrite_messages(unit.text), stream=True,
                                                          max_tokens=rewrite.generation_for(unit.text).max_tokens,
                                                          temperature=0.0):
            if first is None and chunk["choices"][0]["delta"].get("content"):
                first = time.perf_counter() - start
        return {"first_token_s": first, "total_s": time.perf_counter() - start}

    results = {"pipeline": [], "extractive_only": [], "llama_direct_one_rewrite": []}
    for _ in range(args.runs):
        results["pipeline"].append(run(True))
        results["extractive_only"].append(run(False))
        results["llama_direct_one_rewrite"].append(direct())

    def med(rows, key):
        values = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    report = {
        "transcript": {"source": source, "words": transcript.word_count, "lines": len(transcript.lines)},
        "model": model.name, "threads": args.threads, "model_load_s": round(load_s, 2),
        "pipeline": {k: med(results["pipeline"], k) for k in results["pipeline"][0]},
        "baseline_extractive_only": {k: med(results["extractive_only"], k)
                                     for k in ("first_drafted_token_s", "full_draft_s")},
        "baseline_llama_direct_one_rewrite": {k: med(results["llama_direct_one_rewrite"], k)
                                              for k in ("first_token_s", "total_s")},
        "peak_rss_mb": {"after_load": round(rss_loaded, 1),
                        "end": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
        "targets": {"first_token_s": 5.0, "full_draft_s": 30.0},
        "cpu_flags": cpu_flags(), "cpu_count": os.cpu_count(), "load_average": list(os.getloadavg()),
        "runs": args.runs,
    }
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
