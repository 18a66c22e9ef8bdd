"""Ingestion speed of the sentence embedders: sentence-transformers (torch) against ONNX Runtime.

Both embed the same starter-KB chunks (the texts ingestion embeds, 1200-char chunks truncated
to 128 tokens) in the same run, each after a warm-up batch; the ONNX graph is exported first
if the cache lacks it. Prints CPU flags, core count and load average beside the figures,
because the workstation this targets has 2 cores and a shared machine's load moves them.

    python benchmarks/bench_embedder.py [--chunks 500] [--threads 2] [--cache DIR]
    python benchmarks/bench_embedder.py --retrieval /work/shared/data/medquad/medquad.jsonl [--every 25]

``--retrieval``: dense hit@5 of both embedders on a MedQuAD subset (every document whose
sha256(doc_key) is divisible by ``--every``, all their chunks, all their questions; brute-force
cosine over that subset, document-level hits), instead of the speed run.
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

from medstation.rag.embedder import Embedder  # noqa: E402
from medstation.rag.embedder_check import cosines, kb_chunk_texts  # noqa: E402
from medstation.rag.embedder_torch import TorchEmbedder  # noqa: E402

STARTER = ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl"


def cpu_flags() -> str:
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
    try:
        line = next(ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    flags = set(line.split(":", 1)[1].split())
    return " ".join(f for f in wanted if f in flags)


def timed(embedder, texts: list[str], batch: int):
    """(chunks per second, vectors); ingestion calls ``encode`` in batches, so do we."""
    embedder.encode(texts[:8])  # load/export and warm up outside the timing
    started = time.perf_counter()
    parts = [embedder.encode(texts[s:s + batch]) for s in range(0, len(texts), batch)]
    seconds = time.perf_counter() - started
    import numpy as np

    return len(texts) / seconds, np.concatenate(parts), seconds


def retrieval(path: Path, every: int, cache, threads: int) -> dict:
    """Dense hit@5 (document level) of ONNX and torch on the same MedQuAD subset."""
    import hashlib

    import numpy as np

    from medstation.config import Settings
    from medstation.rag.ingest import plan_chunks
    from medstation.rag.sources import read_file

    fields = Settings.model_fields
    docs = [d for d in read_file(path) if int(hashlib.sha256(d.doc_key.encode()).hexdigest(), 16) % every == 0]
    keys = {d.doc_key for d in docs}
    texts, owners = [], []
    for d in docs:
        for c in plan_chunks(d, fields["kb_chunk_chars"].default, fields["kb_chunk_overlap"].default):
            texts.append(c.embed_text)
            owners.append(d.doc_key)
    questions = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        key = f"{row.get('source')}/{row.get('doc_id')}"
        if key in keys and str(row.get("question") or "").strip():
            questions.append((row["question"].strip(), key))
    owners_arr = np.array(owners)
    result = {"documents": len(docs), "chunks": len(texts), "questions": len(questions)}
    for label, embedder in (("onnx", Embedder(cache_dir=cache, threads=threads)), ("torch", TorchEmbedder())):
        chunk_vectors = embedder.encode(texts)
        query_vectors = embedder.encode([q for q, _ in questions])
        hits, firsts = 0, 0
        for vector, (_, key) in zip(query_vectors, questions):
            ranked = owners_arr[np.argsort(-(chunk_vectors @ vector), kind="stable")]
            top = list(dict.fromkeys(ranked[:50]))[:5]
            hits += key in top
            firsts += key == top[0]
        result[f"{label}_hit@5"] = round(hits / max(1, len(questions)), 4)
        result[f"{label}_hit@1"] = round(firsts / max(1, len(questions)), 4)
    result["difference"] = round(result["onnx_hit@5"] - result["torch_hit@5"], 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--batch", type=int, default=64, help="texts per encode call (ingestion's batch)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="ONNX cache folder (default MEDSTATION_HOME/cache)")
    parser.add_argument("--retrieval", type=Path, default=None, help="MedQuAD jsonl: compare dense hit@5 instead")
    parser.add_argument("--every", type=int, default=25, help="with --retrieval: keep 1 document in EVERY (by hash)")
    parser.add_argument("--onnx", type=Path, action="append", default=[],
                        help="also time this graph (e.g. the bundle's fused, float16-stored model.onnx); repeatable")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.retrieval:
        print(json.dumps(retrieval(args.retrieval, args.every, args.cache, args.threads), indent=1))
        return
    texts = kb_chunk_texts(STARTER, args.chunks)
    load_before = os.getloadavg()
    onnx_rate, onnx_vec, onnx_s = timed(Embedder(cache_dir=args.cache, threads=args.threads), texts, args.batch)
    torch_rate, torch_vec, torch_s = timed(TorchEmbedder(), texts, args.batch)
    cos = cosines(onnx_vec, torch_vec)
    graphs = {}
    for graph in args.onnx:  # after torch, so each graph is compared with the same torch vectors
        rate, vectors, seconds = timed(Embedder(onnx_path=graph, threads=args.threads), texts, args.batch)
        graph_cos = cosines(vectors, torch_vec)
        graphs[str(graph)] = {"chunks_per_s": round(rate, 1), "seconds": round(seconds, 2),
                              "speedup_vs_torch": round(rate / torch_rate, 2),
                              "cosine_min": round(float(graph_cos.min()), 6)}
    print(json.dumps({
        "chunks": len(texts), "threads": args.threads, "cpu_count": os.cpu_count(), "cpu_flags": cpu_flags(),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "onnx_chunks_per_s": round(onnx_rate, 1), "onnx_seconds": round(onnx_s, 2),
        "torch_chunks_per_s": round(torch_rate, 1), "torch_seconds": round(torch_s, 2),
        "speedup": round(onnx_rate / torch_rate, 2),
        "cosine_min": round(float(cos.min()), 6), "cosine_mean": round(float(cos.mean()), 6),
        "graphs": graphs,
    }, indent=1))


if __name__ == "__main__":
    main()
