"""Grounded answers: the passages' own sentences that answer the question, each quoted with its citation.

The default answer mode for the embedded 135M model, which invents facts when it
writes prose. Nothing here generates text: the answer is made of whole
sentences copied from the retrieved passages, chosen and ordered by a relevance
scorer and joined as ``sentence [n] sentence [n]``. Each quote therefore passes
the support check of :mod:`medstation.llm.support` against exactly the passage
it cites.

Selection: every whole passage sentence (ending with its own full stop: no
headings, questions or fragments) of 5..60 words is scored against the question with ``scorer(question, texts) ->
scores`` — the knowledge base's sentence embedder (cosine similarity, each
sentence prefixed with its passage title so "Symptoms include …" keeps its
topic), or word overlap when no embedder is available. The best sentence is
always kept; others join while they score at least ``RELATIVE_FLOOR`` of the
best, up to ``MAX_SENTENCES`` and ``MAX_CHARS``. Near-duplicates (MedQuAD
repeats its key points) are skipped. Quotes are shown in passage rank order,
and in reading order within a passage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from medstation.llm.support import required_terms, split_sentences

MAX_SENTENCES = 4
MAX_CHARS = 900
RELATIVE_FLOOR = 0.85
MIN_WORDS, MAX_WORDS = 5, 60

Scorer = Callable[[str, list[str]], Sequence[float]]


@dataclass(frozen=True)
class Quote:
    """Sentence ``text`` copied from passage ``n`` (1-based), its ``position`` there, and its ``score``."""

    n: int
    position: int
    text: str
    score: float


def candidate_sentences(passages: Sequence[Any]) -> list[Quote]:
    """Quotable sentences of every passage, unscored."""
    out: list[Quote] = []
    for n, passage in enumerate(passages, start=1):
        for position, sentence in enumerate(split_sentences(str(getattr(passage, "text", "")))):
            words = sentence.split()
            # only whole sentences: headings and fragments have no full stop of their own
            if not MIN_WORDS <= len(words) <= MAX_WORDS or sentence[-1] not in ".!":
                continue
            out.append(Quote(n, position, sentence, 0.0))
    return out


def overlap_scorer(question: str, texts: list[str]) -> list[float]:
    """Share of the question's content words found in each text (the fallback scorer)."""
    wanted = required_terms(question)
    if not wanted:
        return [0.0] * len(texts)
    return [len(wanted & required_terms(t)) / len(wanted) for t in texts]


def embedding_scorer(embedder) -> Scorer:
    """Cosine similarity from a sentence embedder with ``encode_query(str)`` and ``encode(list)`` (unit vectors)."""

    def score(question: str, texts: list[str]) -> list[float]:
        query = embedder.encode_query(question)
        vectors = embedder.encode(texts)
        return [float(v) for v in vectors @ query]

    return score


def _near_duplicate(a: str, b: str) -> bool:
    ta, tb = required_terms(a), required_terms(b)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= 0.8


def select_quotes(question: str, passages: Sequence[Any], scorer: Scorer = overlap_scorer, *,
                  max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> list[Quote]:
    """The sentences that best answer ``question``, in display order (see the module docstring)."""
    candidates = candidate_sentences(passages)
    if not candidates:
        return []
    titled = [f"{getattr(passages[q.n - 1], 'title', '')}: {q.text}" for q in candidates]
    scored = [Quote(q.n, q.position, q.text, float(s)) for q, s in zip(candidates, scorer(question, titled))]
    ranked = sorted(scored, key=lambda q: (-q.score, q.n, q.position))
    best = ranked[0].score
    chosen: list[Quote] = []
    used = 0
    for quote in ranked:
        if chosen and (quote.score < best * RELATIVE_FLOOR or len(chosen) >= max_sentences):
            break
        if chosen and used + len(quote.text) > max_chars:
            continue
        if any(_near_duplicate(quote.text, c.text) for c in chosen):
            continue
        chosen.append(quote)
        used += len(quote.text)
    return sorted(chosen, key=lambda q: (q.n, q.position))


def quotes_text(quotes: Sequence[Quote]) -> str:
    """The answer as shown: each quote with its exact citation before the full stop, ``"… [2]. … [1]."``."""
    return " ".join(f"{q.text[:-1].rstrip()} [{q.n}]{q.text[-1]}" for q in quotes)
