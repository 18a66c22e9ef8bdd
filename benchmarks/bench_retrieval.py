"""Retrieval latency (p50/p95 per mode), ingestion throughput and peak memory of the knowledge base.

Usage (from the project root):

    .venv/bin/python benchmarks/bench_retrieval.py --home /tmp/kb_home            # an ingested MEDSTATION_HOME
    .venv/bin/python benchmarks/bench_retrieval.py --synthetic 100000             # synthetic 100k chunks
    .venv/bin/python benchmarks/bench_retrieval.py --home /tmp/kb_home --synthetic 100000 \
        --questions ../shared/data/medquad/medquad.jsonl

Latency is end to end through ``KnowledgeBaseService.search`` (query embedding with
MiniLM on the CPU + chroma HNSW query + BM25 + fusion + passage fetch), single thread,
after a warm-up. The synthetic store holds random unit vectors (not real embeddings)
and synthetic Zipf-distributed pseudo-word text for BM25 (chroma keeps a short label per
chunk); it measures scale, not quality.
Target: p95 < 50 ms in every mode. Prints PASS/FAIL per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_P95_MS = 50.0
MODES = ("hybrid", "dense", "bm25")
DEFAULT_QUERIES = [
    "What are the symptoms of type 2 diabetes?", "How is asthma treated?", "What causes gout?",
    "Is sickle cell disease inherited?", "side effects of chemotherapy", "how is Lyme disease spread",
    "treatment options for high blood pressure", "What is chronic kidney disease?",
    "genetic changes related to cystic fibrosis", "prevention of heart disease in older adults",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load_queries(path: str | None, n: int, seed: int) -> list[str]:
    if not path:
        return DEFAULT_QUERIES * max(1, n // len(DEFAULT_QUERIES))
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    questions = [r["question"] for r in rows if r.get("question")]
    random.Random(seed).shuffle(questions)
    return questions[:n]


def synthetic_queries(n: int, seed: int) -> list[str]:
    """Queries of 3-8 pseudo-words drawn like the synthetic texts (so BM25 has postings to score)."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    weights = 1.0 / np.arange(1, 30001)
    weights /= weights.sum()
    return [" ".join(f"w{i}" for i in rng.choice(30000, size=int(rng.integers(3, 9)), p=weights)) for _ in range(n)]


def components(kb, queries: list[str], k: int) -> None:
    """Where the time goes: query embedding, HNSW query, BM25 (p50/p95 ms each)."""
    embedder, store, keywords = kb.embedder(), kb.store(), kb.keyword_index()
    parts = {"embed query": [], "chroma query": [], "bm25": []}
    for q in queries:
        t0 = time.perf_counter()
        v = embedder.encode_query(q)
        t1 = time.perf_counter()
        store.query(v, 40)
        t2 = time.perf_counter()
        keywords.search(q, 40)
        t3 = time.perf_counter()
        for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
            parts[name].append(dt * 1000)
    print("  components: " + ", ".join(
        f"{name} p50 {statistics.median(v):.1f} / p95 {percentile(v, 0.95):.1f} ms" for name, v in parts.items()))


def measure(kb, queries: list[str], label: str, k: int) -> list[dict]:
    results = []
    for mode in MODES:
        for q in queries[:5]:
            kb.search(q, k=k, mode=mode)  # warm-up: model load, index load, caches
        times = []
        for q in queries:
            t0 = time.perf_counter()
            kb.search(q, k=k, mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        verdict = "PASS" if p95 < TARGET_P95_MS else "FAIL"
        print(f"{label:<34} {mode:<7} n={len(times):<5} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"max {max(times):7.1f} ms  {verdict} (target p95 < {TARGET_P95_MS:.0f} ms)", flush=True)
        results.append({"corpus": label, "mode": mode, "n": len(times), "p50_ms": p50, "p95_ms": p95, "pass": p95 < TARGET_P95_MS})
    components(kb, queries, k)
    return results


def open_service(home: Path):
    from medstation.config import Settings
    from medstation.access.roles import UserSession
    from medstation.rag.service import KnowledgeBaseService
    from medstation.access.encryption import open_database

    settings = Settings(home=home)
    settings.ensure_dirs()
    return KnowledgeBaseService(settings, open_database(settings.db_path), session=UserSession.from_os_user())


def bench_home(home: Path, queries: list[str], k: int) -> list[dict]:
    kb = open_service(home)
    version = kb.current_version()
    if version is None or kb.is_empty():
        print(f"{home}: empty knowledge base; ingest first (medstation kb ingest PATH)")
        return []
    print(version.describe())
    from medstation.store.tables import KbVersion

    with kb.db.session() as s:
        meta = s.get(KbVersion, version.id).meta or {}
    rows = []
    with kb.db.session() as s:
        from sqlmodel import select

        rows = [(v.id, v.status, (v.meta or {}).get("chunks_written"), (v.meta or {}).get("chunks_per_s"),
                 (v.meta or {}).get("embed_seconds")) for v in s.exec(select(KbVersion).order_by(KbVersion.id))]
    for vid, status, written, rate, secs in rows:
        if written:
            print(f"ingestion run v{vid} ({status}): {written} chunks embedded+stored in {secs} s = {rate} chunks/s")
    del meta
    t0 = time.perf_counter()
    kb.keyword_index()
    print(f"BM25 index ready in {time.perf_counter() - t0:.1f} s ({kb.keyword_index().size} chunks)")
    return measure(kb, queries, f"ingested ({kb.store().count()} chunks)", k)


def build_synthetic(home: Path, n: int, seed: int) -> float:
    """Fill ``home`` with ``n`` synthetic chunks; returns chunks/s of the vector-store fill.

    Vectors are random unit vectors. Each chunk's BM25 text is 150 Zipf-distributed pseudo-words;
    chroma stores only a short label per chunk, because chroma's own full-text index of long texts
    (which retrieval never uses: BM25 is ours) would make a 100k fill take an hour on 2 cores.
    """
    import numpy as np

    from medstation.rag.keyword_index import KeywordIndex

    kb = open_service(home)
    store = kb.store()
    if store.count() >= n and KeywordIndex.load(home / "kb" / "bm25") is not None:
        return float("nan")
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(30000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    t0 = time.perf_counter()
    all_ids, all_texts = [], []
    batch = 2000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        vectors = rng.standard_normal((size, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        words = vocab[rng.choice(len(vocab), size=(size, 150), p=weights)]
        ids = [f"synthetic/{i // 5}#0#{i % 5}" for i in range(start, start + size)]
        metas = [{"doc_key": f"synthetic/{i // 5}", "doc_id": str(i // 5), "title": f"synthetic document {i // 5}",
                  "url": "", "source": "synthetic", "section": "0", "chunk_index": i % 5} for i in range(start, start + size)]
        if start >= store.count():
            store.upsert(ids, vectors, [f"synthetic chunk {i}" for i in range(start, start + size)], metas)
        all_ids.extend(ids)
        all_texts.extend(" ".join(row) for row in words)
        print(f"  synthetic store: {start + size}/{n}", end="\r", flush=True)
    rate = n / (time.perf_counter() - t0)
    print()
    t1 = time.perf_counter()
    KeywordIndex.build(home / "kb" / "bm25", store, corpus=(all_ids, all_texts))
    print(f"BM25 index over {n} synthetic texts (150 words each) built in {time.perf_counter() - t1:.1f} s")
    kb.close()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an ingested MEDSTATION_HOME (e.g. /tmp/kb_home)")
    parser.add_argument("--synthetic", type=int, default=0, help="also benchmark N synthetic chunks (e.g. 100000)")
    parser.add_argument("--synthetic-home", type=Path, help="reuse/keep the synthetic store here (default: a temp dir)")
    parser.add_argument("--questions", help="JSONL with 'question' fields to use as queries (default: a fixed list)")
    parser.add_argument("--n", type=int, default=200, help="queries per mode")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.home and not args.synthetic:
        parser.error("give --home and/or --synthetic")
    print(f"load average at start: {os.getloadavg()}, CPUs: {os.cpu_count()}")
    queries = load_queries(args.questions, args.n, args.seed)
    results = []
    if args.home:
        results += bench_home(args.home, queries, args.k)
    if args.synthetic:
        home = args.synthetic_home or Path(tempfile.mkdtemp(prefix="kb_synth_"))
        print(f"synthetic: {args.synthetic} chunks of random unit vectors + Zipfian pseudo-word text in {home}")
        t0 = time.perf_counter()
        rate = build_synthetic(home, args.synthetic, args.seed)
        print(f"synthetic store filled in {time.perf_counter() - t0:.0f} s ({rate:.0f} chunks/s, vectors given, no embedding)")
        kb = open_service(home)
        t0 = time.perf_counter()
        kb.keyword_index()
        print(f"BM25 index over {kb.keyword_index().size} synthetic chunks loaded in {time.perf_counter() - t0:.1f} s")
        results += measure(kb, synthetic_queries(args.n, args.seed), f"synthetic ({kb.store().count()} chunks)", args.k)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB; load average at end: {os.getloadavg()}")
    ok = all(r["pass"] for r in results)
    print("OVERALL", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
