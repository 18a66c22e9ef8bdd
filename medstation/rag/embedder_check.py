"""Shared by the agreement test, the export script and the ingestion benchmark: real KB chunks
and the cosine between two embedders' vectors of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def kb_chunk_texts(path: Path, limit: int, *, chunk_chars: int | None = None, chunk_overlap: int | None = None) -> list[str]:
    """The first ``limit`` chunk texts exactly as ingestion embeds them (``embed_text``) from a source file."""
    from medstation.config import Settings
    from medstation.rag.ingest import plan_chunks
    from medstation.rag.sources import read_file

    defaults = Settings.model_fields
    chars = chunk_chars or defaults["kb_chunk_chars"].default
    overlap = chunk_overlap if chunk_overlap is not None else defaults["kb_chunk_overlap"].default
    texts: list[str] = []
    for doc in read_file(Path(path)):
        texts.extend(c.embed_text for c in plan_chunks(doc, chars, overlap))
        if len(texts) >= limit:
            break
    return texts[:limit]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(n, d)`` arrays (unit rows give a dot product; renormalised anyway)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)
