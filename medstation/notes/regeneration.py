"""A regenerated note section as a value: its new AI chunks with their evidence lines, fact flags and provenance.

The job (:meth:`~medstation.notes.service.NotesService.prepare_regeneration`) drafts again from the
transcript version the note was drafted from and returns a :class:`RegeneratedSection`; it never touches
the editor's document. The GUI applies it to the document the user sees (``apply_to``), then the service
stores that document as a ``regenerate`` revision whose ``provenance`` holds :meth:`RegeneratedSection.provenance`
(so evidence links and fact flags of the new chunks survive a reload) and audits it.

Chunk ids are ``<section>:g<generation>:<i>``; evidence lines are 1-based line numbers of that transcript
version; fact flags are ``(start, end)`` character ranges inside the chunk's sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medstation.notes.draft import Draft
from medstation.notes.regenerate import regenerated_chunks
from medstation.notes.spans import TrackedText


@dataclass(frozen=True)
class RegeneratedSection:
    note_id: int
    section: str
    chunks: tuple[tuple[str, str], ...]  # (chunk id, text ending in "\n")
    evidence: dict[str, list[int]]
    fact_flags: dict[str, list[tuple[int, int]]]
    author: str  # "model:<name>" or "model:extractive"
    at: str  # ISO time of the regeneration
    draft_provenance: dict[str, Any]  # Draft.provenance.to_dict() of the redraft (model, prompt, checks)
    transcript_id: int | None
    redraft: Draft | None = None  # the whole redraft: its sentences' sources decide what a human removed
    generation: int = 0
    original: dict[str, Any] | None = None  # the note's first draft as stored (NoteInfo.draft)

    def apply_to(self, doc: TrackedText) -> int:
        """Replace the untouched AI text of the section in ``doc``; returns the characters removed.

        A sentence a human already deleted or rewrote (same words, or written from the same transcript
        sentence) is not put back (:func:`medstation.notes.regenerate.regenerated_chunks`)."""
        chunks = list(self.chunks)
        if self.redraft is not None:
            chunks = regenerated_chunks(self.redraft, doc, self.section, generation=self.generation,
                                        original=self.original)
        return doc.regenerate(self.section, chunks, author=self.author, at=self.at)

    def provenance(self) -> dict[str, Any]:
        """What the ``regenerate`` revision stores: which section, from what, by whom, with which links."""
        return {"regenerated_section": self.section, "transcript_version_id": self.transcript_id,
                "evidence_map": {k: list(v) for k, v in self.evidence.items()},
                "fact_flags": {k: [list(r) for r in v] for k, v in self.fact_flags.items()},
                "author": self.author, "at": self.at, "draft": self.draft_provenance}


def regenerated_section(draft: Draft, note_id: int, key: str, *, generation: int, author: str, at: str,
                        transcript_id: int | None, original: dict[str, Any] | None = None) -> RegeneratedSection:
    """The chunks of section ``key`` of ``draft`` with their links (empty when the draft has no such section)."""
    chunks, evidence, flags = [], {}, {}
    for section in draft.sections:
        if section.key != key:
            continue
        for i, sentence in enumerate(section.sentences):
            chunk = f"{key}:g{generation}:{i}"
            chunks.append((chunk, sentence.text + "\n"))
            evidence[chunk] = list(sentence.evidence)
            flags[chunk] = [(f.start, f.end) for f in sentence.fact_flags]
    return RegeneratedSection(note_id, key, tuple(chunks), evidence, flags, author, at,
                              draft.provenance.to_dict(), transcript_id, draft, generation, original)


def merged_links(provenances: list[dict[str, Any]], draft: dict[str, Any]) -> tuple[dict, dict]:
    """Evidence lines and fact-flag ranges of every chunk a note ever had: the first draft's, then each
    regenerated section's (``provenances`` in revision order). Shapes: ``{chunk: [line]}``, ``{chunk: [(a, b)]}``."""
    evidence = {k: list(v) for k, v in draft.get("provenance", {}).get("evidence_map", {}).items()}
    flags: dict[str, list[tuple[int, int]]] = {}
    for section in draft.get("sections", []):
        for i, sentence in enumerate(section.get("sentences", [])):
            flags[f"{section['key']}:{i}"] = [(f["start"], f["end"]) for f in sentence.get("fact_flags", [])]
    for prov in provenances:
        if "regenerated_section" not in prov:
            continue
        evidence.update({k: list(v) for k, v in prov.get("evidence_map", {}).items()})
        flags.update({k: [tuple(r) for r in v] for k, v in prov.get("fact_flags", {}).items()})
    return evidence, flags
