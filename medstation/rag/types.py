"""Plain, frozen values the knowledge base hands to other packages (chat, CLI, UI).

Nothing here imports chromadb, torch or Qt: these types cross threads and
package boundaries, so they are small immutable dataclasses of plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Literal

from medstation.errors import UserFacingError

SearchMode = Literal["hybrid", "dense", "bm25"]
SEARCH_MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")


EMPTY_KB_MESSAGE = (
    "Knowledge base is empty — ingest documents with `medstation kb ingest PATH` (Markdown, text, HTML, PDF or "
    "MedQuAD JSONL) or the Ingest folder… button. The starter knowledge base (MedQuAD) loads on first start."
)
MAX_QUESTION_CHARS = 4000


# Explicit direction embeddings/overrides/isolates (U+202A-202E, U+2066-2069) and zero-width spaces/BOM: invisible,
# pasted along from right-to-left records, and an override shows the question reversed. ZWNJ/ZWJ stay (Persian).
_INVISIBLE_FORMATTING = re.compile("[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")


def clean_question(question: str) -> str:
    """``question`` without invisible direction controls and zero-width spaces, stripped."""
    return _INVISIBLE_FORMATTING.sub("", question or "").strip()


def question_problem(question: str) -> str:
    """Why ``question`` cannot be asked (empty, over ``MAX_QUESTION_CHARS``), or "" when it can."""
    if not clean_question(question):
        return "Type a question first."
    if len(question) > MAX_QUESTION_CHARS:
        return (f"The question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
                "Shorten it to the clinical question itself.")
    return ""


class KnowledgeBaseError(UserFacingError, RuntimeError):
    """A knowledge-base problem the user must see in plain words (empty base, bad mode, server down)."""


class KnowledgeBaseEmpty(KnowledgeBaseError):
    """Raised where an empty knowledge base must not pass silently (e.g. ``kb eval``)."""


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk of a source document, ready to cite.

    ``score`` is the fused score used for ranking (higher is better): reciprocal-rank
    fusion in ``hybrid`` mode, cosine similarity in ``dense`` mode, BM25 in ``bm25``
    mode. ``rank`` is 1-based. ``scores`` keeps the per-retriever evidence, e.g.
    ``{"dense_rank": 1, "dense_sim": 0.71, "bm25_rank": 3, "bm25": 12.4}``
    (a retriever that did not return the chunk has no entry).
    ``doc_id`` is the source's own document id (MedQuAD's ``doc_id``; the absolute
    path for files); ``doc_key`` makes it unique across sources
    (``"<source>/<doc_id>"``). ``section`` is e.g. the MedQuAD question id.
    """

    chunk_id: str
    doc_id: str
    title: str
    url: str
    source: str
    text: str
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)
    doc_key: str = ""
    section: str = ""


class KbVersionStatus(str, Enum):
    """Life of one ingestion run (stored as its string value in ``kb_version.status``)."""

    building = "building"
    complete = "complete"
    cancelled = "cancelled"
    failed = "failed"


@dataclass(frozen=True)
class KbVersionInfo:
    """One recorded state of the knowledge base (a row of ``kb_version``).

    ``status`` is ``building | complete | cancelled | failed``. ``doc_count`` and
    ``chunk_count`` describe the whole knowledge base after that ingestion run.
    ``chunk_chars``/``chunk_overlap`` are in characters.
    """

    id: int
    embedding_model: str
    chunk_chars: int
    chunk_overlap: int
    doc_count: int
    chunk_count: int
    status: KbVersionStatus
    created_at: datetime
    embedding_sha256: str = ""
    collection: str = ""
    added_docs: int = 0
    removed_docs: int = 0
    skipped_docs: int = 0
    # what the run that made this version could not use, for the user: "name: reason" of files that failed to
    # read, names (up to 50) and count of files of a type it does not read, documents it found (None: not recorded)
    unreadable: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    unsupported_count: int = 0
    found_docs: int | None = None
    path: str = ""

    def describe(self) -> str:
        line = (
            f"knowledge base v{self.id} ({KbVersionStatus(self.status).value}): {self.doc_count} documents, {self.chunk_count} chunks, "
            f"embedder {self.embedding_model} sha256 {self.embedding_sha256[:12]}, "
            f"chunks {self.chunk_chars}/{self.chunk_overlap} chars"
        )
        return ". ".join([line, *self.run_notes()])

    def run_notes(self) -> list[str]:
        """Plain sentences on what the ingestion run skipped; [] when it read everything."""
        notes = []
        if self.found_docs == 0 and KbVersionStatus(self.status) is KbVersionStatus.complete:
            notes.append(f"No document found in {self.path or 'the chosen path'}: nothing was added")
        if self.unreadable:
            notes.append(f"{len(self.unreadable)} file(s) could not be read (what they held before is kept as "
                         f"ingested before): {_some(self.unreadable, 3, '; ')}")
        if self.unsupported_count:
            named = _some(self.unsupported, 5, ", ", total=self.unsupported_count)
            notes.append(f"{self.unsupported_count} file(s) skipped, not a supported type (Markdown, text, HTML, "
                         f"PDF or MedQuAD JSONL): {named}")
        return notes


def _some(items: tuple[str, ...], shown: int, sep: str, total: int | None = None) -> str:
    """The first ``shown`` of ``items`` and how many more there are (of ``total`` when only some were kept)."""
    total = len(items) if total is None else total
    more = total - min(shown, len(items))
    return sep.join(items[:shown]) + (f"{sep}and {more} more" if more > 0 else "")
