"""The chroma collection that holds chunk texts, metadata and our own embeddings.

Two ways to reach it: an on-disk ``PersistentClient`` under ``settings.kb_dir``
(default) or a shared chroma server (``settings.kb_mode == "http"``). We always
pass embeddings ourselves and create the collection with ``embedding_function=None``,
so chroma never tries to download its default model; telemetry is off.
Distances are cosine distances (``1 - cosine similarity``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from medstation.rag.types import KnowledgeBaseError

COLLECTION_NAME = "medstation_kb_minilm_l6"
# chroma caps the size of one write; stay well below it.
WRITE_BATCH = 2000
# collection.count() is a SQL COUNT (about 13 ms at 100k chunks): far too slow per query,
# so queries use a count at most this old; our own writes refresh it at once.
COUNT_TTL_S = 5.0


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    meta: dict
    distance: float | None = None


def _chroma_settings():
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class VectorStore:
    def __init__(self, client, collection, *, description: str) -> None:
        self.client = client
        self.collection = collection
        self.description = description
        self._count_cache: tuple[float, int] | None = None  # (monotonic time, count)

    @classmethod
    def open(cls, settings, name: str = COLLECTION_NAME) -> "VectorStore":
        import chromadb

        if settings.kb_mode == "http":
            try:
                client = chromadb.HttpClient(host=settings.kb_host, port=settings.kb_port, settings=_chroma_settings())
                client.heartbeat()
            except Exception as exc:
                raise KnowledgeBaseError(
                    f"cannot reach the shared knowledge-base server at {settings.kb_host}:{settings.kb_port} ({exc})"
                ) from exc
            where = f"chroma server {settings.kb_host}:{settings.kb_port}"
        else:
            path = settings.kb_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
            where = str(path)
        collection = client.get_or_create_collection(
            name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        return cls(client, collection, description=f"{where} / {name}")

    def count(self) -> int:
        n = int(self.collection.count())
        self._count_cache = (time.monotonic(), n)
        return n

    def _recent_count(self) -> int:
        cached = self._count_cache
        if cached is None or time.monotonic() - cached[0] > COUNT_TTL_S:
            return self.count()
        return cached[1]

    def upsert(self, ids: list[str], embeddings: np.ndarray, texts: list[str], metas: list[dict]) -> None:
        for s in range(0, len(ids), WRITE_BATCH):
            e = s + WRITE_BATCH
            self.collection.upsert(ids=ids[s:e], embeddings=embeddings[s:e], documents=texts[s:e], metadatas=metas[s:e])
        self._count_cache = None

    def delete_document(self, doc_key: str) -> None:
        self.collection.delete(where={"doc_key": doc_key})
        self._count_cache = None

    def query(self, vector: np.ndarray, n: int, *, with_content: bool = True) -> list[StoredChunk]:
        """Nearest ``n`` chunks to one unit vector of shape ``(384,)``, nearest first.

        ``with_content=False`` returns ids and distances only (empty text/meta): fusion needs
        40 candidates but shows 5, and fetching 40 texts costs more than a second lookup of 5.
        """
        n = min(n, self._recent_count())
        if n <= 0:
            return []
        include = ["documents", "metadatas", "distances"] if with_content else ["distances"]
        query = np.asarray(vector, dtype=np.float32)
        try:
            res = self.collection.query(query_embeddings=[query], n_results=n, include=include)
        except Exception:
            # chunks may have been removed elsewhere since the count was taken: ask again with a fresh one
            n = min(n, self.count())
            if n <= 0:
                return []
            res = self.collection.query(query_embeddings=[query], n_results=n, include=include)
        docs = res["documents"][0] if with_content else [""] * len(res["ids"][0])
        metas = res["metadatas"][0] if with_content else [{}] * len(res["ids"][0])
        return [
            StoredChunk(cid, doc or "", dict(meta or {}), float(dist))
            for cid, doc, meta, dist in zip(res["ids"][0], docs, metas, res["distances"][0])
        ]

    def get(self, ids: list[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        res = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: StoredChunk(cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(res["ids"], res["documents"], res["metadatas"])
        }

    def iter_all(self, page: int = 5000) -> Iterator[tuple[list[str], list[str], list[dict]]]:
        """Every stored chunk as pages of ``(ids, texts, metas)``, for rebuilding the BM25 index."""
        offset = 0
        while True:
            res = self.collection.get(limit=page, offset=offset, include=["documents", "metadatas"])
            ids = list(res["ids"])
            if not ids:
                return
            yield ids, [d or "" for d in res["documents"]], [dict(m or {}) for m in res["metadatas"]]
            offset += len(ids)

    def close(self) -> None:
        # chroma clients hold no file handles we can release explicitly; drop references.
        self.collection = None
        self.client = None
