"""Who wrote which characters of a note: span tracking as a pure, replayable model.

A :class:`TrackedText` is a list of :class:`Span` whose texts, joined, are the
note. Each span has a :class:`SpanKind`:

* ``ai`` — text the model (or the extractive drafter) wrote, untouched;
* ``ai_edited`` — the surviving characters of an AI chunk a human has edited;
* ``human`` — characters a human typed or pasted;
* ``template`` — headings and separators that come from the template.

AI text arrives in *chunks* (one per drafted sentence, ``chunk`` id). An edit
*touches* a chunk when it deletes any of its characters or inserts strictly
inside it; a touched chunk's remaining characters become ``ai_edited`` and are
locked against regeneration. :meth:`TrackedText.regenerate` replaces only the
untouched ``ai`` spans of one section, so human and human-edited text is never
lost or altered. Text a human moves (cut and paste, drag and drop) keeps its authors
(:meth:`TrackedText.insert`; AI text becomes ``ai_edited``), and undo/redo restore an
earlier state exactly (:meth:`TrackedText.restore`). Every operation is also an ``op`` dict; :func:`replay` of the
ops from an empty text reproduces the text and spans exactly.

The AI share (:meth:`TrackedText.ai_share`) is characters of kind ``ai`` or
``ai_edited`` over characters of kind ``ai``, ``ai_edited`` or ``human``
(template text counts for neither), as an exact :class:`fractions.Fraction`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any


class SpanKind(str, enum.Enum):
    ai = "ai"
    ai_edited = "ai_edited"
    human = "human"
    template = "template"


@dataclass(frozen=True)
class Span:
    text: str
    kind: SpanKind
    author: str = ""
    at: str = ""
    chunk: str = ""  # AI chunk id (e.g. "plan:3"); empty for human and template text
    section: str = ""

    def to_dict(self, start: int) -> dict[str, Any]:
        return {"start": start, "end": start + len(self.text), "kind": self.kind.value, "author": self.author,
                "at": self.at, "chunk": self.chunk, "section": self.section}


class TrackedText:
    """A note's text with authorship. Mutating methods append to :attr:`ops`."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.ops: list[dict[str, Any]] = []

    def copy(self) -> "TrackedText":
        """An independent copy (spans are frozen, so the lists are enough): a snapshot another thread may read."""
        doc = TrackedText()
        doc.spans, doc.ops = list(self.spans), [dict(op) for op in self.ops]
        return doc

    # --- reading ---------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    def span_dicts(self) -> list[dict[str, Any]]:
        out, pos = [], 0
        for s in self.spans:
            out.append(s.to_dict(pos))
            pos += len(s.text)
        return out

    def counts(self) -> dict[SpanKind, int]:
        counts = {k: 0 for k in SpanKind}
        for s in self.spans:
            counts[s.kind] += len(s.text)
        return counts

    def ai_share(self) -> Fraction:
        c = self.counts()
        authored = c[SpanKind.ai] + c[SpanKind.ai_edited] + c[SpanKind.human]
        return Fraction(c[SpanKind.ai] + c[SpanKind.ai_edited], authored) if authored else Fraction(0)

    def kind_at(self, pos: int) -> SpanKind | None:
        for start, span in self._with_starts():
            if start <= pos < start + len(span.text):
                return span.kind
        return None

    def section_at(self, pos: int) -> str:
        """The section of the character at ``pos`` (or of the last character before it)."""
        found = ""
        for start, span in self._with_starts():
            if start > pos:
                break
            found = span.section or found
        return found

    def _with_starts(self):
        pos = 0
        for s in self.spans:
            yield pos, s
            pos += len(s.text)

    # --- writing ---------------------------------------------------------------------------------

    def append(self, text: str, kind: SpanKind, *, author: str = "", at: str = "", chunk: str = "",
               section: str = "") -> None:
        """Add ``text`` at the end (drafting, headings)."""
        if not text:
            return
        self.ops.append({"op": "append", "text": text, "kind": kind.value, "author": author, "at": at,
                         "chunk": chunk, "section": section})
        self._insert_spans(len(self.text), [Span(text, kind, author, at, chunk, section)])

    def replace(self, start: int, end: int, new_text: str, *, author: str, at: str = "") -> None:
        """A human edit: characters ``[start, end)`` become ``new_text`` (either may be empty)."""
        length = len(self.text)
        if not (0 <= start <= end <= length):
            raise ValueError(f"edit range {start}..{end} outside 0..{length}")
        if start == end and not new_text:
            return
        self.ops.append({"op": "replace", "start": start, "end": end, "text": new_text, "author": author, "at": at})
        touched = self._touched_chunks(start, end)
        section = self.section_at(max(0, start - 1) if start == end else start)
        self._delete(start, end)
        self.spans = [replace(s, kind=SpanKind.ai_edited) if s.kind is SpanKind.ai and s.chunk in touched else s
                      for s in self.spans]
        if new_text:
            self._insert_spans(start, [Span(new_text, SpanKind.human, author, at, "", section)])
        self._merge()

    def regenerate(self, section: str, chunks: list[tuple[str, str]], *, author: str, at: str = "") -> int:
        """Replace the untouched AI text of ``section`` with ``chunks`` ``[(chunk_id, text), ...]``.

        Human, human-edited and template text stay exactly where they are; the new
        chunks go where the first removed AI span was (else after the section's last
        span). Returns the number of characters removed.
        """
        self.ops.append({"op": "regenerate", "section": section, "chunks": [list(c) for c in chunks],
                         "author": author, "at": at})
        insert_at, removed, pos, last_end = None, 0, 0, None
        kept: list[Span] = []
        for span in self.spans:
            if span.section == section:
                last_end = pos + len(span.text)
            if span.section == section and span.kind is SpanKind.ai:
                if insert_at is None:
                    insert_at = len("".join(s.text for s in kept))
                removed += len(span.text)
            else:
                kept.append(span)
            pos += len(span.text)
        self.spans = kept
        if insert_at is None:
            insert_at = (last_end - removed) if last_end is not None else len(self.text)
        new = [Span(text, SpanKind.ai, author, at, chunk_id, section) for chunk_id, text in chunks if text]
        self._insert_spans(insert_at, new)
        self._merge()
        return removed

    def insert(self, pos: int, pieces: list[Span], *, author: str, at: str = "") -> None:
        """Paste or drop text that came from a tracked note (cut, copied or dragged): each piece keeps who
        wrote it. AI pieces become ``ai_edited`` (a human placed them: still AI-written, counted in the AI
        share, and locked against regeneration); human and template pieces stay as they were. All pieces
        take the section of the place they land in; inserting strictly inside an AI chunk touches it."""
        pieces = [p for p in pieces if p.text]
        length = len(self.text)
        if not 0 <= pos <= length:
            raise ValueError(f"insert position {pos} outside 0..{length}")
        if not pieces:
            return
        self.ops.append({"op": "insert", "pos": pos, "author": author, "at": at,
                         "pieces": [{"text": p.text, "kind": p.kind.value, "author": p.author, "at": p.at,
                                     "chunk": p.chunk, "section": p.section} for p in pieces]})
        touched = self._touched_chunks(pos, pos)
        section = self.section_at(max(0, pos - 1))
        self.spans = [replace(s, kind=SpanKind.ai_edited) if s.kind is SpanKind.ai and s.chunk in touched else s
                      for s in self.spans]
        placed = [replace(p, kind=SpanKind.ai_edited if p.kind is SpanKind.ai else p.kind, section=section)
                  for p in pieces]
        self._insert_spans(pos, placed)
        self._merge()

    def pieces(self, start: int, end: int) -> list[Span]:
        """The spans covering ``[start, end)``, cut to that range (what a copy of the selection carries)."""
        out = []
        for s0, span in self._with_starts():
            a, b = max(start, s0), min(end, s0 + len(span.text))
            if a < b:
                out.append(replace(span, text=span.text[a - s0:b - s0]))
        return out

    def restore(self, spans: list[Span]) -> None:
        """Return to an earlier state exactly (undo/redo): text and every tag as they were."""
        self.ops.append({"op": "restore", "spans": self._dicts_with_text(spans)})
        self.spans = [s for s in spans if s.text]

    @staticmethod
    def _dicts_with_text(spans: list[Span]) -> list[dict[str, Any]]:
        return [{"text": s.text, "kind": s.kind.value, "author": s.author, "at": s.at, "chunk": s.chunk,
                 "section": s.section} for s in spans]

    # --- internals -------------------------------------------------------------------------------

    def _touched_chunks(self, start: int, end: int) -> set[str]:
        touched = set()
        for s0, span in self._with_starts():
            s1 = s0 + len(span.text)
            if span.kind not in (SpanKind.ai, SpanKind.ai_edited) or not span.chunk:
                continue
            if (start < s1 and end > s0) or (start == end and s0 < start < s1):
                touched.add(span.chunk)
        return touched

    def _delete(self, start: int, end: int) -> None:
        if start == end:
            return
        out = []
        for s0, span in self._with_starts():
            s1 = s0 + len(span.text)
            if s1 <= start or s0 >= end:
                out.append(span)
                continue
            keep = span.text[: max(0, start - s0)] + span.text[max(0, end - s0):]
            if keep:
                out.append(replace(span, text=keep))
        self.spans = out

    def _insert_spans(self, pos: int, new: list[Span]) -> None:
        out, done = [], False
        for s0, span in self._with_starts():
            s1 = s0 + len(span.text)
            if not done and s0 <= pos < s1 and pos > s0:
                out += [replace(span, text=span.text[: pos - s0]), *new, replace(span, text=span.text[pos - s0:])]
                done = True
                continue
            if not done and pos == s0:
                out += new
                done = True
            out.append(span)
        if not done:
            out += new
        self.spans = out

    def _merge(self) -> None:
        """Join neighbours with identical tags so span lists stay short (text and tags unchanged)."""
        out: list[Span] = []
        for span in self.spans:
            if not span.text:
                continue
            if out and (out[-1].kind, out[-1].author, out[-1].chunk, out[-1].section, out[-1].at) == \
                    (span.kind, span.author, span.chunk, span.section, span.at):
                out[-1] = replace(out[-1], text=out[-1].text + span.text)
            else:
                out.append(span)
        self.spans = out

    # --- persistence -----------------------------------------------------------------------------

    @classmethod
    def from_spans(cls, text: str, spans: list[dict[str, Any]]) -> "TrackedText":
        """Rebuild from stored ``(text, span dicts)``; raises ValueError if they disagree."""
        doc = cls()
        pos = 0
        for d in spans:
            if d["start"] != pos or d["end"] < d["start"]:
                raise ValueError("stored spans are not contiguous")
            doc.spans.append(Span(text[d["start"]:d["end"]], SpanKind(d["kind"]), d.get("author", ""),
                                  d.get("at", ""), d.get("chunk", ""), d.get("section", "")))
            pos = d["end"]
        if pos != len(text):
            raise ValueError("stored spans do not cover the text")
        return doc


def apply_op(doc: TrackedText, op: dict[str, Any]) -> None:
    kind = op["op"]
    if kind == "append":
        doc.append(op["text"], SpanKind(op["kind"]), author=op.get("author", ""), at=op.get("at", ""),
                   chunk=op.get("chunk", ""), section=op.get("section", ""))
    elif kind == "replace":
        doc.replace(op["start"], op["end"], op["text"], author=op["author"], at=op.get("at", ""))
    elif kind == "regenerate":
        doc.regenerate(op["section"], [tuple(c) for c in op["chunks"]], author=op["author"], at=op.get("at", ""))
    elif kind in ("insert", "restore"):
        pieces = [Span(d["text"], SpanKind(d["kind"]), d.get("author", ""), d.get("at", ""), d.get("chunk", ""),
                       d.get("section", "")) for d in op["pieces" if kind == "insert" else "spans"]]
        if kind == "insert":
            doc.insert(op["pos"], pieces, author=op["author"], at=op.get("at", ""))
        else:
            doc.restore(pieces)
    else:
        raise ValueError(f"unknown op {kind!r}")


def replay(ops: list[dict[str, Any]]) -> TrackedText:
    """A fresh :class:`TrackedText` with ``ops`` applied in order."""
    doc = TrackedText()
    for op in ops:
        apply_op(doc, op)
    return doc
