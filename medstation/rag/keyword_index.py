"""BM25 keyword index (bm25s) over every chunk in the vector store, persisted under ``kb_dir/bm25``.

bm25s cannot add documents to an index, so the index is rebuilt from the vector
store (the source of truth) after each ingestion and whenever its recorded chunk
count no longer matches the store (e.g. another workstation wrote to a shared
chroma server). A rebuild is written to a temporary folder and swapped in, so a
crash never leaves a half-written index behind. Scores are BM25 (Lucene variant).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other
    our out over own same she should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you your""".split()
)


def _stem(word: str) -> str:
    """A light plural/suffix stripper (so 'symptoms' finds 'symptom'); no external stemmer needed."""
    if len(word) > 4 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz" and not word.endswith("ses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower().replace("\u2019", "'")) if w not in _STOPWORDS]


class KeywordIndex:
    """``search(query, n) -> [(chunk_id, bm25_score), ...]`` best first, positive scores only."""

    def __init__(self, retriever, chunk_ids: list[str], directory: Path) -> None:
        self.retriever = retriever
        self.chunk_ids = chunk_ids
        self.directory = directory
        self.stamp = _manifest_stamp(directory)

    def is_outdated(self) -> bool:
        """True when another process (e.g. ``medstation kb ingest``) rebuilt the index on disk since we loaded it."""
        return _manifest_stamp(self.directory) != self.stamp

    @property
    def size(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, directory: Path, store, ctx=None, *, corpus=None) -> "KeywordIndex":
        """Index every chunk of ``store`` (or the given ``(ids, texts)`` corpus) and persist it."""
        import bm25s

        ids: list[str] = []
        tokens: list[list[str]] = []
        pages = [corpus] if corpus is not None else ((i, t) for i, t, _ in _pages_with_titles(store))
        for page_ids, page_texts in pages:
            if ctx is not None:
                ctx.check()
            ids.extend(page_ids)
            tokens.extend(tokenize(t) or ["\x00empty"] for t in page_texts)
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if retriever is not None:
            retriever.save(str(tmp / "bm25"), show_progress=False)
        (tmp / "chunk_ids.json").write_text(json.dumps(ids))
        (tmp / "manifest.json").write_text(json.dumps({"chunk_count": len(ids), "built_at": time.time()}))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
        return cls(retriever, ids, directory)

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex | None":
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
            ids = json.loads((directory / "chunk_ids.json").read_text())
        except (OSError, ValueError):
            return None
        if manifest.get("chunk_count") != len(ids):
            return None
        retriever = None
        if ids:
            import bm25s

            retriever = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
        return cls(retriever, ids, directory)

    @classmethod
    def load_or_build(cls, directory: Path, store) -> "KeywordIndex":
        index = cls.load(directory)
        if index is None or index.size != store.count():
            index = cls.build(directory, store)
        return index

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        if self.retriever is None or not self.chunk_ids or n <= 0:
            return []
        words = [w for w in tokenize(query) if w in self.retriever.vocab_dict]
        if not words:
            return []
        n = min(n, len(self.chunk_ids))
        docs, scores = self.retriever.retrieve([words], k=n, show_progress=False, n_threads=1)
        out = []
        for idx, score in zip(np.asarray(docs[0]).tolist(), np.asarray(scores[0]).tolist()):
            if score > 0:
                out.append((self.chunk_ids[int(idx)], float(score)))
        return out


def _manifest_stamp(directory: Path) -> int:
    try:
        return (directory / "manifest.json").stat().st_mtime_ns
    except OSError:
        return 0


def _pages_with_titles(store):
    """Pages of ``(ids, texts, metas)`` where each text is prefixed by its document title (titles carry the topic)."""
    for ids, texts, metas in store.iter_all():
        yield ids, [f"{m.get('title', '')}\n{t}" for t, m in zip(texts, metas)], metas
