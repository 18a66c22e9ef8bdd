"""What an answer was built from, as one frozen, versioned value stored with every assistant message.

``AnswerProvenance.to_json()`` is what ``chat_message.provenance`` holds;
``AnswerProvenance.from_json()`` reads it back (rows written before schema 2,
which had word-overlap ``matched`` entries instead of checked sentences, load
with their passages and citations and no sentence checks). The Chat tab, its
side panel, the renderer and ``medstation ask`` read answers through it only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from medstation.llm.support import SentenceSupport

SCHEMA_VERSION = 2


class AnswerMode(str, Enum):
    """``grounded``: quoted passage sentences only; ``generative``: the model's own words, each sentence checked."""

    grounded = "grounded"
    generative = "generative"


def passage_record(number: int, passage: Any) -> dict[str, Any]:
    """The one stored/JSON shape of a retrieved passage (``Passage``-like object), numbered from 1."""
    return {"n": number, "chunk_id": passage.chunk_id, "doc_id": passage.doc_id, "title": passage.title,
            "url": passage.url, "source": passage.source, "score": float(passage.score), "rank": int(passage.rank),
            "scores": dict(passage.scores or {}), "section": getattr(passage, "section", ""), "text": passage.text}


@dataclass(frozen=True)
class AnswerProvenance:
    """Everything needed to re-check an answer. ``passages[i]`` is cited as ``[i + 1]``.

    ``sentences``: every answer sentence with its support check; ``finish``:
    ``complete | length | stopped | error | not_in_knowledge_base``.
    """

    answer_mode: AnswerMode = AnswerMode.grounded
    label: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    kb_version_id: int | None = None
    retrieval: dict[str, Any] = field(default_factory=dict)
    relevance: dict[str, Any] = field(default_factory=dict)
    passages: tuple[dict[str, Any], ...] = ()
    dropped_context: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int = 0
    token_count_exact: bool = False
    n_ctx: int = 0
    generation: dict[str, Any] = field(default_factory=dict)
    regenerated: bool = False
    raw_text: str = ""
    sentences: tuple[SentenceSupport, ...] = ()
    removed_markers: tuple[dict[str, Any], ...] = ()
    timing: dict[str, Any] = field(default_factory=dict)
    finish: str = "complete"
    notice: str = ""
    case: dict[str, str] | None = None
    differential: tuple[dict[str, Any], ...] = ()
    schema_version: int = SCHEMA_VERSION

    # --- derived views ----------------------------------------------------------------------

    @property
    def cited(self) -> tuple[int, ...]:
        """Passages that support at least one sentence, in order of first use."""
        seen: list[int] = []
        for s in self.sentences:
            seen.extend(n for n in s.citations if n not in seen)
        for item in self.differential:
            seen.extend(n for n in item.get("citations", ()) if n not in seen)
        return tuple(seen)

    @property
    def uncited(self) -> tuple[int, ...]:
        cited = set(self.cited)
        return tuple(n for n in range(1, len(self.passages) + 1) if n not in cited)

    @property
    def unsupported_count(self) -> int:
        return sum(1 for s in self.sentences if not s.supported)

    def support_summary(self) -> dict[str, int]:
        return {"sentences": len(self.sentences), "supported": len(self.sentences) - self.unsupported_count,
                "unsupported": self.unsupported_count}

    def with_updates(self, **changes: Any) -> AnswerProvenance:
        return replace(self, **changes)

    # --- storage ----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version, "answer_mode": self.answer_mode.value, "label": self.label,
            "model": dict(self.model), "kb_version_id": self.kb_version_id, "retrieval": dict(self.retrieval),
            "relevance": dict(self.relevance), "passages": [dict(p) for p in self.passages],
            "dropped_context": dict(self.dropped_context), "prompt_tokens": self.prompt_tokens,
            "token_count_exact": self.token_count_exact, "n_ctx": self.n_ctx, "generation": dict(self.generation),
            "regenerated": self.regenerated, "raw_text": self.raw_text,
            "sentences": [s.to_json() for s in self.sentences], "support": self.support_summary(),
            "cited": list(self.cited), "uncited": list(self.uncited),
            "cited_chunk_ids": [self.passages[n - 1].get("chunk_id") for n in self.cited if n <= len(self.passages)],
            "removed_markers": [dict(m) for m in self.removed_markers], "timing": dict(self.timing),
            "finish": self.finish, "notice": self.notice, "case": dict(self.case) if self.case else None,
            "differential": [dict(d) for d in self.differential],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> AnswerProvenance:
        """Read a stored provenance (schema 1 or 2); an empty dict gives an empty provenance."""
        data = dict(data or {})
        sentences = tuple(SentenceSupport.from_json(s) for s in data.get("sentences") or ())
        if int(data.get("schema_version") or 1) < 2 and not sentences:
            sentences = tuple(SentenceSupport(text=str(m.get("sentence", "")), supported=False,
                                              model_citations=(int(m["n"]),)) for m in data.get("matched") or ())
        try:
            mode = AnswerMode(data.get("answer_mode") or "generative")
        except ValueError:
            mode = AnswerMode.generative
        return cls(
            answer_mode=mode, label=str(data.get("label", "")), model=dict(data.get("model") or {}),
            kb_version_id=data.get("kb_version_id"), retrieval=dict(data.get("retrieval") or {}),
            relevance=dict(data.get("relevance") or {}), passages=tuple(dict(p) for p in data.get("passages") or ()),
            dropped_context=dict(data.get("dropped_context") or {}), prompt_tokens=int(data.get("prompt_tokens") or 0),
            token_count_exact=bool(data.get("token_count_exact")), n_ctx=int(data.get("n_ctx") or 0),
            generation=dict(data.get("generation") or {}), regenerated=bool(data.get("regenerated")),
            raw_text=str(data.get("raw_text", "")), sentences=sentences,
            removed_markers=tuple(dict(m) for m in data.get("removed_markers") or ()),
            timing=dict(data.get("timing") or {}), finish=str(data.get("finish") or "complete"),
            notice=str(data.get("notice", "")), case=dict(data["case"]) if data.get("case") else None,
            differential=tuple(dict(d) for d in data.get("differential") or ()),
            schema_version=SCHEMA_VERSION,
        )
