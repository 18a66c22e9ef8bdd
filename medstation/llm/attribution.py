"""Source matching: which retrieved passage a sentence of the answer repeats, when the model cited nothing.

Small models (the embedded SmolLM2-135M among them) rarely write ``[n]``
markers even when told to, but they mostly restate passage sentences. So that a
clinician can still check every sentence, each uncited sentence is matched to
the passage that contains most of its content words. A match is *not* a
citation: it is stored separately (``provenance["matched"]``) and shown as
``[≈n]``, "matched by word overlap", never as the model's own ``[n]``.

Overlap = |content words of the sentence ∩ words of the passage| / |content
words of the sentence|; content words are lower-cased alphanumeric tokens of 3+
characters that are not stop words. A sentence with fewer than 3 content words
is too short to match reliably and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from medstation.llm.citations import MARKER

MIN_OVERLAP = 0.6
MIN_CONTENT_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_STOP_WORDS = frozenset(
    "the and for are but not you all any can had her was one our out has his how its may who did get use "
    "with that this from they have been were will would there their what which when where your into than "
    "then them these those some such also more most other about over only very just each both being does "
    "because while should could after before between through during under again further here why own same "
    "passage passages source sources information".split()
)


@dataclass(frozen=True)
class SentenceMatch:
    """Sentence ``text[start:end]`` matches passage number ``n`` (1-based) with ``overlap`` in [0, 1]."""

    start: int
    end: int
    n: int
    overlap: float

    def as_dict(self) -> dict:
        return asdict(self)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP_WORDS}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, trailing spaces excluded."""
    spans, start = [], 0
    for boundary in _SENTENCE_END.finditer(text):
        if text[start:boundary.start()].strip():
            spans.append((start, boundary.start()))
        start = boundary.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def match_sentences(
    text: str, passage_texts: Sequence[str], *, min_overlap: float = MIN_OVERLAP
) -> list[SentenceMatch]:
    """For each sentence without a citation marker, the best-matching passage when overlap >= ``min_overlap``."""
    vocabularies = [set(_WORD.findall(p.lower())) for p in passage_texts]
    matches: list[SentenceMatch] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if MARKER.search(sentence):
            continue  # the model cited this sentence itself
        words = content_words(sentence)
        if len(words) < MIN_CONTENT_WORDS:
            continue
        best_n, best = 0, 0.0
        for n, vocabulary in enumerate(vocabularies, start=1):
            overlap = len(words & vocabulary) / len(words)
            if overlap > best:
                best_n, best = n, overlap
        if best_n and best >= min_overlap:
            matches.append(SentenceMatch(start, end, best_n, round(best, 3)))
    return matches
