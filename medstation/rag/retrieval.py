"""Dense, BM25 and hybrid retrieval, and reciprocal-rank fusion.

Hybrid ranking uses reciprocal-rank fusion (Cormack et al., 2009):
``score(c) = sum over retrievers r of 1 / (RRF_K + rank_r(c))`` with 1-based ranks,
so neither retriever's raw score scale matters.
"""

from __future__ import annotations

from medstation.rag.types import Passage
from medstation.rag.vector_store import StoredChunk

RRF_K = 60


def rrf_fuse(rankings: dict[str, list[str]], k_const: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked id lists (best first) into ``[(id, fused_score)]`` best first; ties break by id."""
    fused: dict[str, float] = {}
    for ranked in rankings.values():
        for rank, cid in enumerate(ranked, 1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k_const + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def _passage(chunk: StoredChunk, score: float, rank: int, scores: dict[str, float]) -> Passage:
    m = chunk.meta
    return Passage(
        chunk_id=chunk.chunk_id, doc_id=str(m.get("doc_id", "")), title=str(m.get("title", "")),
        url=str(m.get("url", "")), source=str(m.get("source", "")), text=chunk.text, score=float(score),
        rank=rank, scores=scores, doc_key=str(m.get("doc_key", "")), section=str(m.get("qid") or m.get("section", "")),
    )


def retrieve(service, query: str, *, k: int, mode: str, depth: int) -> list[Passage]:
    """Top ``k`` passages; ``depth`` candidates per retriever feed the fusion in hybrid mode."""
    store = service.store()
    dense_hits: list[StoredChunk] = []
    bm25_hits: list[tuple[str, float]] = []
    if mode in ("dense", "hybrid"):
        vector = service.embedder().encode_query(query)
        dense_hits = store.query(vector, k, with_content=True) if mode == "dense" else store.query(vector, depth, with_content=False)
    if mode in ("bm25", "hybrid"):
        bm25_hits = service.keyword_index().search(query, k if mode == "bm25" else depth)

    evidence: dict[str, dict[str, float]] = {}
    for rank, hit in enumerate(dense_hits, 1):
        evidence.setdefault(hit.chunk_id, {}).update(dense_rank=rank, dense_sim=1.0 - float(hit.distance or 0.0))
    for rank, (cid, score) in enumerate(bm25_hits, 1):
        evidence.setdefault(cid, {}).update(bm25_rank=rank, bm25=score)

    if mode == "dense":
        ranked = [(h.chunk_id, 1.0 - float(h.distance or 0.0)) for h in dense_hits]
    elif mode == "bm25":
        ranked = list(bm25_hits)
    else:
        ranked = rrf_fuse({"dense": [h.chunk_id for h in dense_hits], "bm25": [c for c, _ in bm25_hits]})
    ranked = ranked[:k]

    known = {h.chunk_id: h for h in dense_hits} if mode == "dense" else {}
    missing = [cid for cid, _ in ranked if cid not in known]
    known.update(store.get(missing))
    passages = []
    for cid, score in ranked:
        chunk = known.get(cid)
        if chunk is None:  # deleted between index build and now (concurrent ingestion)
            continue
        passages.append(_passage(chunk, score, len(passages) + 1, evidence.get(cid, {})))
    return passages
