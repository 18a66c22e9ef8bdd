"""Property tests of span tracking: human text is never lost, AI share is exact, revisions replay."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from medstation.notes.spans import SpanKind, TrackedText, replay

SECTIONS = ("s", "o", "a", "p")


class Reference:
    """Character-level model: every character carries (char, kind, chunk, section, unique id)."""

    def __init__(self) -> None:
        self.chars: list[list] = []
        self.next_id = 0

    def _new(self, text, kind, chunk, section):
        out = []
        for ch in text:
            out.append([ch, kind, chunk, section, self.next_id])
            self.next_id += 1
        return out

    def section_at(self, pos):
        found = ""
        for i, c in enumerate(self.chars):
            if i > pos:
                break
            found = c[3] or found
        return found

    def append(self, text, kind, chunk, section):
        self.chars += self._new(text, kind, chunk, section)

    def replace(self, start, end, text):
        if start == end and not text:
            return  # an empty edit changes nothing
        touched = {c[2] for c in self.chars[start:end] if c[1] in (SpanKind.ai, SpanKind.ai_edited) and c[2]}
        if start == end and 0 < start < len(self.chars):
            left, right = self.chars[start - 1], self.chars[start]
            if left[2] and left[2] == right[2] and left[1] in (SpanKind.ai, SpanKind.ai_edited):
                touched.add(left[2])
        section = self.section_at(max(0, start - 1) if start == end else start)
        del self.chars[start:end]
        for c in self.chars:
            if c[1] is SpanKind.ai and c[2] in touched:
                c[1] = SpanKind.ai_edited
        self.chars[start:start] = self._new(text, SpanKind.human, "", section)

    def regenerate(self, section, chunks):
        first, last = None, None
        kept = []
        for c in self.chars:
            if c[3] == section:
                last = len(kept) if c[1] is SpanKind.ai else len(kept) + 1
            if c[3] == section and c[1] is SpanKind.ai:
                if first is None:
                    first = len(kept)
                continue
            kept.append(c)
        at = first if first is not None else (last if last is not None else len(kept))
        new = []
        for chunk_id, text in chunks:
            new += self._new(text, SpanKind.ai, chunk_id, section)
        kept[at:at] = new
        self.chars = kept

    @property
    def text(self):
        return "".join(c[0] for c in self.chars)

    def kinds(self):
        return [c[1] for c in self.chars]

    def protected(self):
        """Ids and characters of everything a human wrote or edited."""
        return [(c[4], c[0]) for c in self.chars if c[1] in (SpanKind.human, SpanKind.ai_edited)]


texts = st.text(alphabet="abc .\n", min_size=1, max_size=8)
ops = st.lists(st.one_of(
    st.tuples(st.just("ai"), st.sampled_from(SECTIONS), texts),
    st.tuples(st.just("heading"), st.sampled_from(SECTIONS), texts),
    st.tuples(st.just("edit"), st.floats(0, 1), st.floats(0, 0.5), st.text(alphabet="xyz", max_size=5)),
    st.tuples(st.just("regen"), st.sampled_from(SECTIONS), st.lists(texts, max_size=3)),
), min_size=1, max_size=25)


def _kinds(doc: TrackedText) -> list[SpanKind]:
    return [s.kind for s in doc.spans for _ in s.text]


@settings(max_examples=300, deadline=None)
@given(ops)
def test_any_edit_sequence_keeps_human_text_and_exact_share(sequence):
    doc, ref = TrackedText(), Reference()
    n_chunk = 0
    for op in sequence:
        if op[0] in ("ai", "heading"):
            kind = SpanKind.ai if op[0] == "ai" else SpanKind.template
            chunk = f"{op[1]}:{n_chunk}" if kind is SpanKind.ai else ""
            n_chunk += 1
            doc.append(op[2], kind, author="model", chunk=chunk, section=op[1])
            ref.append(op[2], kind, chunk, op[1])
        elif op[0] == "edit":
            length = len(ref.text)
            start = int(op[1] * length)
            end = min(length, start + int(op[2] * length))
            before = [(i, ch) for i, ch in ref.protected()]
            removed_ids = {c[4] for c in ref.chars[start:end]}
            doc.replace(start, end, op[3], author="dr")
            ref.replace(start, end, op[3])
            # every human character outside the edited range survives, unchanged and in order
            survivors = [p for p in before if p[0] not in removed_ids]
            assert [p for p in ref.protected() if p[0] in {s[0] for s in survivors}] == survivors
        else:
            before = ref.protected()
            chunks = [(f"{op[1]}:{n_chunk + i}", t) for i, t in enumerate(op[2])]
            n_chunk += len(chunks)
            doc.regenerate(op[1], chunks, author="model")
            ref.regenerate(op[1], chunks)
            assert ref.protected() == before  # regeneration never touches human or human-edited text
        assert doc.text == ref.text
        assert _kinds(doc) == ref.kinds()
    counts = {k: sum(1 for c in ref.chars if c[1] is k) for k in SpanKind}
    authored = counts[SpanKind.ai] + counts[SpanKind.ai_edited] + counts[SpanKind.human]
    expected = Fraction(counts[SpanKind.ai] + counts[SpanKind.ai_edited], authored) if authored else Fraction(0)
    assert doc.ai_share() == expected
    again = replay(doc.ops)
    assert again.text == doc.text and again.span_dicts() == doc.span_dicts()
    restored = TrackedText.from_spans(doc.text, doc.span_dicts())
    assert restored.span_dicts() == doc.span_dicts()


def test_regenerate_replaces_only_untouched_ai_text():
    doc = TrackedText()
    doc.append("PLAN\n", SpanKind.template, section="plan")
    doc.append("Continue sertraline. ", SpanKind.ai, chunk="plan:0", section="plan")
    doc.append("Follow up in two weeks. ", SpanKind.ai, chunk="plan:1", section="plan")
    start = doc.text.index("two")
    doc.replace(start, start + 3, "three", author="dr")  # touches chunk plan:1 only
    doc.regenerate("plan", [("plan:2", "Practise breathing daily. ")], author="model")
    assert doc.text == "PLAN\nPractise breathing daily. Follow up in three weeks. "
    assert doc.kind_at(doc.text.index("Follow")) is SpanKind.ai_edited
    assert doc.kind_at(doc.text.index("three")) is SpanKind.human
    assert doc.kind_at(doc.text.index("Practise")) is SpanKind.ai
