"""Chunking invariants: size cap, bounded overlap, full coverage, sentence boundaries."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings as hsettings, strategies as st

from medstation.rag.chunking import chunk_spans, chunk_text, sentence_units

words = st.text(alphabet="abcdefghij", min_size=1, max_size=30)
separators = st.sampled_from([" ", " ", " ", ". ", "! ", "\n", "\n\n", "  \n "])
prose = st.lists(st.tuples(words, separators), max_size=120).map(lambda parts: "".join(w + s for w, s in parts))


@hsettings(max_examples=200, deadline=None)
@given(text=st.one_of(prose, st.text(max_size=600)), max_chars=st.integers(8, 300), frac=st.floats(0, 0.9))
def test_chunks_are_capped_overlap_bounded_and_cover_everything(text, max_chars, frac):
    overlap = min(max_chars - 1, int(max_chars * frac))
    spans = chunk_spans(text, max_chars, overlap)
    covered = bytearray(len(text))
    for (s, e) in spans:
        assert 0 <= s < e <= len(text)
        assert e - s <= max_chars
        covered[s:e] = b"\x01" * (e - s)
    for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
        assert s1 > s0, "chunk starts strictly increase"
        assert e1 > e0, "every chunk adds text its predecessor lacks"
        assert max(0, e0 - s1) <= overlap, "neighbours share at most `overlap` characters"
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


@hsettings(max_examples=100, deadline=None)
@given(prose, st.integers(20, 300))
def test_sentence_units_are_trimmed_and_ordered(text, max_chars):
    units = sentence_units(text, max_chars)
    for s, e in units:
        assert not text[s].isspace() and not text[e - 1].isspace() and e - s <= max_chars
    assert all(a[1] <= b[0] for a, b in zip(units, units[1:]))


def test_overlap_repeats_whole_sentences():
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(30)]
    text = " ".join(sentences)
    chunks = chunk_text(text, 200, 60)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        first = nxt.split(". ")[0] + "."
        assert first in sentences, "chunks start on a sentence boundary"
        assert first in prev, "the overlap carries the previous chunk's last sentence"


def test_short_text_is_one_chunk_and_empty_is_none():
    assert chunk_text("One short paragraph.", 1200, 200) == ["One short paragraph."]
    assert chunk_text("  \n\n ", 1200, 200) == []


def test_paragraph_break_ends_a_sentence_unit():
    text = "Heading without stop\n\nBody sentence one. Body two."
    assert [text[s:e] for s, e in sentence_units(text, 100)] == ["Heading without stop", "Body sentence one.", "Body two."]


def test_overlong_word_is_cut_hard():
    spans = chunk_spans("x" * 25, 10, 3)
    assert [e - s for s, e in spans] == [10, 10, 5]


@pytest.mark.parametrize("max_chars,overlap", [(0, 0), (10, 10), (10, -1)])
def test_bad_parameters_are_refused(max_chars, overlap):
    with pytest.raises(ValueError):
        chunk_spans("text", max_chars, overlap)
