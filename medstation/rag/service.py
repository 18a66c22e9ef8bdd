"""``KnowledgeBaseService``: the one object other packages use to search and fill the knowledge base.

Built cheaply in ``app.py`` (no chromadb, torch or model load in the constructor);
the embedder, the chroma collection and the BM25 index are opened on first use,
under a lock, from whichever worker thread asks first. ``search`` may be called
from several threads; ingestion runs as a job (``ingest_job``) in a worker lane.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from medstation.access.roles import Permission, UserSession
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.rag.embedder import Embedder
from medstation.rag.ingest import ingest_path
from medstation.rag.keyword_index import KeywordIndex
from medstation.rag.retrieval import retrieve
from medstation.rag.types import EMPTY_KB_MESSAGE, SEARCH_MODES, KbVersionInfo, KnowledgeBaseError, Passage
from medstation.rag.vector_store import VectorStore
from medstation.rag.versions import current_version
from medstation.store.database import Database

log = logging.getLogger(__name__)

# Candidates each retriever contributes before fusion: deep enough that a chunk ranked
# ~20th by one retriever but 1st by the other still reaches the fused top k.
FUSION_DEPTH = 40
# How often (seconds) search re-checks that the BM25 index still matches the vector store.
STALE_CHECK_S = 30.0


class KnowledgeBaseService:
    """Search and ingestion for the local medical knowledge base.

    ``search(query, k, mode)`` returns up to ``k`` :class:`Passage` in rank order
    (an empty list when the base is empty: check :meth:`is_empty` to tell the user
    why). ``mode`` is ``hybrid`` (dense + BM25 fused by reciprocal rank), ``dense``
    or ``bm25``.
    """

    def __init__(self, settings: Settings, db: Database, *, session: UserSession, embedder=None) -> None:
        """Cheap: nothing is opened here. ``session``: who acts (the composition root's);
        ``embedder`` lets tests and benchmarks share one loaded model."""
        self.settings = settings
        self.db = db
        self.session = session
        self._lock = threading.RLock()
        self._embedder = embedder
        self._store = None
        self._keywords = None
        self._keywords_checked = 0.0
        self._nonempty_seen_at = -1e9

    # --- lazy parts -------------------------------------------------------------------------

    def embedder(self):
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder()  # graph in the user's shared ONNX cache (docs/EMBEDDER.md)
            return self._embedder

    def store(self):
        with self._lock:
            if self._store is None:
                self._store = VectorStore.open(self.settings)
            return self._store

    def keyword_index(self):
        """The BM25 index, reloaded when another process rebuilt it and rebuilt when it no longer
        matches the store (checked at most every ``STALE_CHECK_S``: a shared server may change under us)."""
        with self._lock:
            now = time.monotonic()
            stale = self._keywords is None or self._keywords.is_outdated()
            if not stale and now - self._keywords_checked > STALE_CHECK_S:
                stale = self._keywords.size != self.store().count()
                self._keywords_checked = now
            if stale:
                self._keywords = KeywordIndex.load_or_build(self.settings.kb_dir / "bm25", self.store())
                self._keywords_checked = now
            return self._keywords

    def rebuild_keyword_index(self, ctx: JobContext | None = None) -> None:
        index = KeywordIndex.build(self.settings.kb_dir / "bm25", self.store(), ctx=ctx)
        with self._lock:
            self._keywords = index

    # --- public interface -------------------------------------------------------------------

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Passage]:
        """Top-``k`` passages for ``query``; ``[]`` for an empty query or an empty knowledge base."""
        self.session.require(Permission.use_chat)
        if mode not in SEARCH_MODES:
            raise KnowledgeBaseError(f"unknown search mode {mode!r}; use one of {', '.join(SEARCH_MODES)}")
        query = (query or "").strip()
        if not query or k <= 0 or self._looks_empty():
            return []

        return retrieve(self, query, k=k, mode=mode, depth=max(FUSION_DEPTH, 4 * k))

    def current_version(self) -> KbVersionInfo | None:
        return current_version(self.db)

    def ingest_job(self, ctx: JobContext, path: Path) -> KbVersionInfo:
        """Job: add/update/remove documents under ``path`` (file or folder). Resumable and incremental."""
        self.session.require(Permission.manage_kb)
        try:
            return ingest_path(ctx, self, Path(path))
        finally:
            self._nonempty_seen_at = -1e9  # documents may have been removed

    def is_empty(self) -> bool:
        """True when no chunk is stored (checked in the vector store, the source of truth)."""
        return self.store().count() == 0

    def _looks_empty(self) -> bool:
        """``is_empty`` without a store round trip per search: a non-empty answer is trusted for
        ``STALE_CHECK_S`` (ingestion in this process resets it; deletion elsewhere shows up soon)."""
        now = time.monotonic()
        if now - self._nonempty_seen_at < STALE_CHECK_S:
            return False
        empty = self.is_empty()
        self._nonempty_seen_at = -1e9 if empty else now
        return empty

    def empty_message(self) -> str:
        return EMPTY_KB_MESSAGE

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store = None
            self._keywords = None
            self._embedder = None
