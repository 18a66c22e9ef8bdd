"""Retrieval evaluation: hit@1, hit@k and MRR of document ids over a question file.

A question row is ``{"question": str, "doc_id": str, ...}`` (JSON lines). Retrieved
passages are reduced to document ids in rank order with duplicates removed; a hit
is the question's ``doc_id`` among them. When the row also names its ``source``
(as MedQuAD rows do), a stricter variant also requires the source to match,
because MedQuAD reuses the same ``doc_id`` string in different collections.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from medstation.jobs import JobContext


@dataclass(frozen=True)
class EvalSummary:
    n: int
    skipped: int
    k: int
    mode: str
    hit_at_1: float
    hit_at_k: float
    mrr: float
    strict_n: int
    strict_hit_at_1: float
    strict_hit_at_k: float
    strict_mrr: float
    kb_version: dict | None
    mean_search_ms: float
    queries_pre_embedded: bool

    def as_json(self) -> dict:
        d = asdict(self)
        d[f"hit@{self.k}"] = d["hit_at_k"]
        d["hit@1"] = d["hit_at_1"]
        return d


def dedupe(items: list) -> list:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def reciprocal_rank(target, ranked: list) -> float:
    """1/rank of ``target`` in ``ranked`` (1-based); 0.0 when absent."""
    for i, item in enumerate(ranked, 1):
        if item == target:
            return 1.0 / i
    return 0.0


def read_questions(path: Path) -> tuple[list[dict], int]:
    """Rows with a non-empty ``question`` and ``doc_id``; also the number of rows skipped."""
    rows, skipped = [], 0
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            if not str(row.get("question") or "").strip() or not str(row.get("doc_id") or "").strip():
                skipped += 1
                continue
            rows.append(row)
    return rows, skipped


def evaluate(ctx: JobContext, service, questions: Path, out_dir: Path, *, k: int = 5, mode: str = "hybrid") -> EvalSummary:
    """Job: search every question, write ``per_question.jsonl`` and ``summary.json`` into ``out_dir``."""
    import time

    rows, skipped = read_questions(questions)
    out_dir.mkdir(parents=True, exist_ok=True)
    if mode != "bm25" and rows:
        # Batch-embed every question first: the per-question latency below then excludes embedding.
        ctx.report(0.0, f"embedding {len(rows)} questions")
        service.embedder().prime([str(r["question"]).strip() for r in rows])
    rr, rr_strict, latencies = [], [], []
    with (out_dir / "per_question.jsonl").open("w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            ctx.check()
            t0 = time.perf_counter()
            passages = service.search(str(row["question"]), k=k, mode=mode)
            latencies.append(time.perf_counter() - t0)
            retrieved = dedupe([p.doc_id for p in passages])
            r = reciprocal_rank(str(row["doc_id"]), retrieved)
            rr.append(r)
            record = {"question": row["question"], "doc_id": row["doc_id"], "retrieved": retrieved,
                      "rank": round(1 / r) if r else None}
            if row.get("source"):
                keyed = dedupe([(p.source, p.doc_id) for p in passages])
                rs = reciprocal_rank((str(row["source"]), str(row["doc_id"])), keyed)
                rr_strict.append(rs)
                record["strict_rank"] = round(1 / rs) if rs else None
            fh.write(json.dumps(record) + "\n")
            if i % 50 == 0:
                ctx.report((i + 1) / max(1, len(rows)), f"evaluated {i + 1}/{len(rows)} questions")

    def _rate(values: list[float], pred) -> float:
        return sum(1 for v in values if pred(v)) / len(values) if values else 0.0

    version = service.current_version()
    summary = EvalSummary(
        n=len(rr), skipped=skipped, k=k, mode=mode,
        hit_at_1=_rate(rr, lambda v: v == 1.0), hit_at_k=_rate(rr, lambda v: v > 0),
        mrr=sum(rr) / len(rr) if rr else 0.0,
        strict_n=len(rr_strict), strict_hit_at_1=_rate(rr_strict, lambda v: v == 1.0),
        strict_hit_at_k=_rate(rr_strict, lambda v: v > 0),
        strict_mrr=sum(rr_strict) / len(rr_strict) if rr_strict else 0.0,
        kb_version=None if version is None else {
            "id": version.id, "status": version.status, "embedding_model": version.embedding_model,
            "embedding_sha256": version.embedding_sha256, "doc_count": version.doc_count,
            "chunk_count": version.chunk_count, "chunk_chars": version.chunk_chars,
            "chunk_overlap": version.chunk_overlap,
        },
        mean_search_ms=1000 * sum(latencies) / len(latencies) if latencies else 0.0,
        queries_pre_embedded=mode != "bm25",
    )
    (out_dir / "summary.json").write_text(json.dumps(summary.as_json(), indent=2) + "\n")
    ctx.report(1.0, f"hit@1 {summary.hit_at_1:.3f}, hit@{k} {summary.hit_at_k:.3f}, MRR {summary.mrr:.3f}")
    return summary
