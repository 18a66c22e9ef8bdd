"""What a drafted note is: sections of sentences, each linked to transcript lines, plus flags and provenance.

Stored as JSON (``Draft.to_dict``, ``schema_version`` 1) and printed by
``medstation notes draft --json``. Sentence ids are ``<section key>:<index>``;
the evidence map in the provenance uses the same ids.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from medstation.notes.facts import FactFlag
from medstation.notes.risk import RiskFlag

DRAFT_SCHEMA_VERSION = 1


class SentenceOrigin(str, enum.Enum):
    model = "model"  # rewritten into note style by the language model, checks passed
    extract = "extract"  # a transcript sentence, cleaned of fillers (no words added)
    reported = "reported"  # deterministic clinical voice (third person, notes/voice.py), checked by check_rewrite
    quote = "quote"  # verbatim transcript quote (extractive fallback draft)
    risk = "risk"  # the deterministic risk statement the draft must carry


@dataclass(frozen=True)
class DraftSentence:
    """``evidence``: 1-based transcript line numbers; ``supported`` False when no line backs the sentence."""

    text: str
    evidence: tuple[int, ...]
    origin: SentenceOrigin
    fact_flags: tuple[FactFlag, ...] = ()
    supported: bool = True
    source_text: str = ""  # the transcript sentence it was written from

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "evidence": list(self.evidence), "origin": self.origin.value,
                "supported": self.supported, "source_text": self.source_text,
                "fact_flags": [asdict(f) for f in self.fact_flags]}


@dataclass(frozen=True)
class DraftSection:
    key: str
    title: str
    sentences: tuple[DraftSentence, ...]
    note: str = ""  # e.g. "No evidence in the transcript for this section."
    uncovered: tuple[str, ...] = ()  # topics this section takes that the transcript does not cover

    @property
    def coverage_note(self) -> str:
        """"Not discussed in the transcript: sleep, appetite and eating." (empty when all were covered)."""
        return f"Not discussed in the transcript: {', '.join(self.uncovered)}." if self.uncovered else ""

    @property
    def lines(self) -> list[str]:
        """The section's body, one sentence per line: its sentences (or its note) and the coverage note."""
        body = [s.text for s in self.sentences] or ([self.note] if self.note else [])
        return body + ([self.coverage_note] if self.coverage_note else [])

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "note": self.note, "text": self.text,
                "uncovered": list(self.uncovered), "sentences": [s.to_dict() for s in self.sentences]}


@dataclass(frozen=True)
class Provenance:
    """Everything needed to say how a draft was made and to reproduce it."""

    model: dict[str, Any]
    template: str
    template_version: str
    prompt_sha256: str
    transcript_sha256: str
    transcript_version_id: int | None
    evidence_map: dict[str, list[int]]
    checks: dict[str, Any]
    generation: dict[str, Any]
    created_at: str
    timings: dict[str, float] = field(default_factory=dict)
    fallback_reason: str = ""
    schema_version: int = DRAFT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Draft:
    """A note draft. ``fallback`` True: the model was not used or failed, and every sentence is a quote."""

    template: str
    sections: tuple[DraftSection, ...]
    risks: tuple[RiskFlag, ...]
    label: str
    fallback: bool
    provenance: Provenance

    def sentences(self):
        """``(sentence_id, section, sentence)`` for every sentence, in note order."""
        for section in self.sections:
            for i, sentence in enumerate(section.sentences):
                yield f"{section.key}:{i}", section, sentence

    def to_text(self, *, headings: bool = True) -> str:
        """Plain text: upper-case headings, one sentence per line (the form ROUGE-Lsum reads)."""
        parts = []
        for section in self.sections:
            body = "\n".join(section.lines)
            parts.append(f"{section.title.upper()}\n{body}" if headings else body)
        return "\n\n".join(parts)

    @property
    def evidence_share(self) -> float:
        """Share of sentences linked to at least one transcript line (1.0 for an empty draft)."""
        all_sentences = [s for _, _, s in self.sentences()]
        if not all_sentences:
            return 1.0
        return sum(1 for s in all_sentences if s.evidence and s.supported) / len(all_sentences)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": DRAFT_SCHEMA_VERSION, "template": self.template, "label": self.label,
                "fallback": self.fallback, "evidence_share": self.evidence_share,
                "sections": [s.to_dict() for s in self.sections],
                "risk_flags": [r.to_dict() for r in self.risks],  # line(s), category, why, score
                "fact_flags": [{"sentence": sid, **asdict(f)} for sid, _, s in self.sentences() for f in s.fact_flags],
                "provenance": self.provenance.to_dict()}
