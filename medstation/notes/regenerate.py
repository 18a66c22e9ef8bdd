"""Regenerating a section never brings back what a human already rewrote or deleted.

:func:`regenerated_chunks` is the filtered form of :func:`medstation.notes.records.section_chunks`: it
takes the redrafted section and the human-edited document and drops every new sentence that

* has the same words as an AI sentence of this section that a human deleted or rewrote
  (compared lower-case, punctuation and spacing ignored), or
* was written from the same transcript sentence (same evidence lines and source sentence) as such
  a sentence — a reworded version of what the human removed is still what the human removed, or
* is already in the section as human or human-edited text.

Which AI sentences were deleted or rewritten is read from the document's own operation log
(:class:`medstation.notes.spans.TrackedText` ``ops``: every AI chunk ever added, by append or
regenerate) against its current spans: a chunk with no span left was deleted, a chunk with an
``ai_edited`` span was rewritten. The original draft (``NoteInfo.draft``, ``Draft.to_dict()``) gives
the evidence of the first draft's chunks (``<section>:<i>``).
"""

from __future__ import annotations

import re

from medstation.notes.draft import Draft, DraftSentence
from medstation.notes.spans import SpanKind, TrackedText


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _inserted_chunks(doc: TrackedText, section: str) -> dict[str, str]:
    """chunk id -> text as inserted, for every AI chunk of ``section`` the document ever held."""
    out: dict[str, str] = {}
    for op in doc.ops:
        if op.get("op") == "append" and op.get("kind") == SpanKind.ai.value and op.get("section") == section \
                and op.get("chunk"):
            out[op["chunk"]] = out.get(op["chunk"], "") + op["text"]
        elif op.get("op") == "regenerate" and op.get("section") == section:
            for chunk_id, text in op.get("chunks", []):
                out[chunk_id] = text
    return out


def human_removed(doc: TrackedText, section: str, original: dict | None = None) -> dict[str, str]:
    """chunk id -> original text of the AI sentences of ``section`` a human deleted or rewrote.

    The AI sentences are the first draft's (``original``, when given: a document reloaded from its
    spans has no operation log) and every chunk the document's log shows was added.
    """
    alive: dict[str, set[SpanKind]] = {}
    for span in doc.spans:
        if span.chunk:
            alive.setdefault(span.chunk, set()).add(span.kind)
    inserted = {cid: s.get("text", "") + "\n" for cid, s in _original_sentences(original, section).items()}
    inserted.update(_inserted_chunks(doc, section))
    return {cid: text for cid, text in inserted.items() if cid not in alive or SpanKind.ai_edited in alive[cid]}


def _original_sentences(original: dict | None, section: str) -> dict[str, dict]:
    if not original:
        return {}
    for sec in original.get("sections", []):
        if sec.get("key") == section:
            return {f"{section}:{i}": s for i, s in enumerate(sec.get("sentences", []))}
    return {}


def keep_sentence(sentence: DraftSentence, removed_texts: set[str], removed_sources: set[tuple], present: set[str]) -> bool:
    source = (tuple(sentence.evidence), _norm(sentence.source_text)) if sentence.source_text else None
    text = _norm(sentence.text)
    return text not in removed_texts and text not in present and (source is None or source not in removed_sources)


def regenerated_chunks(draft: Draft, doc: TrackedText, section: str, *, generation: int,
                       original: dict | None = None) -> list[tuple[str, str]]:
    """``[(chunk_id, text)]`` of ``section`` redrafted in ``draft``, without what a human removed or wrote.

    ``original``: the note's first draft as stored (``Draft.to_dict()``), for its sentences' evidence.
    Chunk ids carry the generation, as :func:`medstation.notes.records.section_chunks` does.
    """
    removed = human_removed(doc, section, original)
    first = _original_sentences(original, section)
    new = next((s for s in draft.sections if s.key == section), None)
    if new is None:
        return []
    removed_texts = {_norm(text) for text in removed.values()}
    removed_sources: set[tuple] = set()
    for cid, text in removed.items():
        info = first.get(cid)
        if info and info.get("source_text"):
            removed_sources.add((tuple(info.get("evidence", ())), _norm(info["source_text"])))
        for s in new.sentences:  # a regenerated chunk's source: the new sentence with the same words
            if _norm(s.text) == _norm(text) and s.source_text:
                removed_sources.add((tuple(s.evidence), _norm(s.source_text)))
    present = {_norm(line) for span in doc.spans if span.section == section
               and span.kind in (SpanKind.human, SpanKind.ai_edited) for line in span.text.split("\n") if line.strip()}
    # ids keep the sentence's index in the redraft, so evidence and fact flags stored per chunk still match
    return [(f"{section}:g{generation}:{i}", s.text + "\n") for i, s in enumerate(new.sentences)
            if keep_sentence(s, removed_texts, removed_sources, present)]
