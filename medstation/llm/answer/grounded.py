"""Grounded answers: the passages' own sentences and lists that answer the question, each with its citation.

The default answer mode for the embedded 135M model, which invents facts when it
writes prose. Nothing here generates text, and no model chooses: the answer is
made of units copied from the retrieved passages (:mod:`medstation.llm.answer.passage_units`:
whole sentences, and lists kept with their lead-in), chosen and ordered
deterministically and joined as ``unit [n]. unit [n].`` Each quote therefore
passes the support check of :mod:`medstation.llm.support` against exactly the
passage it cites. (The small model is not asked to pick either: its picks could
not be reproduced or tested, and cost seconds of decoding on two cores.)

Selection. A unit is quotable when it ends with its own full stop, starts like a
sentence (capital or digit) and has 4..60 words (lists up to 90): headings,
questions, lead-ins without their list and cut fragments never are, nor text
addressed to an AI model (:mod:`medstation.llm.answer.injection`). Each
quotable unit gets

    score = similarity + CUE_WEIGHT * cue + FOCUS_WEIGHT * focus + POPULATION_WEIGHT * population
            - ANAPHORA_PENALTY * anaphoric

* similarity: ``scorer(question, texts)`` -- the knowledge base's sentence
  embedder (cosine; each unit prefixed with its passage title so "Symptoms
  include …" keeps its topic), or word overlap without an embedder;
* cue (0, 0.5, 1): how plainly the unit answers the question's type
  (:mod:`medstation.llm.answer.question_cues`: symptoms, treatment, causes, diagnosis,
  prognosis, inheritance, prevention, frequency, definition), a list counting
  by its lead-in; sitting under the type's heading ("Outlook") counts as weak;
* focus (0..1): share of the question's focus words ("asthma") in the passage
  title, so the passage about the asked-for condition wins over a neighbour;
* anaphoric: the unit opens with "They", "This", "It" …, whose referent is not quoted;
* population (safety questions only, :mod:`medstation.llm.safety`): +1 when the unit names the population
  the question asks about, 0.5 when its passage does; a unit naming only another population is dropped.

When the question has a type and some unit gives it (cue > 0), only such units
are eligible: an answer about symptoms is not padded with what the doctor asks.
The best unit is always kept; others join while they score at least
``RELATIVE_FLOOR`` of the best, up to ``MAX_SENTENCES`` and ``MAX_CHARS``. A unit
whose terms are mostly in one already chosen (MedQuAD repeats its key points) is
skipped. Quotes are shown in passage rank order, and in reading order within a passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from medstation.llm.answer.injection import addressed_to_model
from medstation.llm.answer.passage_units import passage_units
from medstation.llm.answer.question_cues import QuestionIntent, QuestionType, classify, cue, focus_coverage
from medstation.llm.safety import population_fit
from medstation.llm.support import required_terms, split_sentences

MAX_SENTENCES = 4
MAX_CHARS = 900
RELATIVE_FLOOR = 0.85
MIN_WORDS, MAX_WORDS, MAX_LIST_WORDS = 4, 60, 90
CUE_WEIGHT = 0.2
FOCUS_WEIGHT = 0.1
ANAPHORA_PENALTY = 0.1
POPULATION_WEIGHT = 0.15
DUPLICATE_SHARE = 0.8
_ANAPHORIC = re.compile(r"^(they|them|their|it|its|this|these|that|those|he|she|such|other times|both)\b",
                        re.IGNORECASE)
_STARTS_LIKE_SENTENCE = re.compile(r"^[\"'(]?[A-Z0-9]")

Scorer = Callable[[str, list[str]], Sequence[float]]


@dataclass(frozen=True)
class Quote:
    """Unit ``text`` copied from passage ``n`` (1-based), its ``position`` there, and its ``score``.

    ``is_list``: a lead-in with its items (``"Lead: a; b."``); ``cue``: how plainly it answers the question type.
    """

    n: int
    position: int
    text: str
    score: float
    is_list: bool = False
    cue: float = 0.0


def quotable(text: str, is_list: bool = False) -> bool:
    """A whole sentence (or list) of acceptable length: no heading, question, lead-in or cut fragment."""
    words = len(text.split())
    longest = MAX_LIST_WORDS if is_list else MAX_WORDS
    return (MIN_WORDS <= words <= longest and text[-1] in ".!" and not text.rstrip(".!").endswith(":")
            and bool(_STARTS_LIKE_SENTENCE.match(text)))


def candidate_sentences(passages: Sequence[Any]) -> list[Quote]:
    """Quotable units of every passage, unscored."""
    out: list[Quote] = []
    for n, passage in enumerate(passages, start=1):
        for unit in passage_units(str(getattr(passage, "text", ""))):
            if quotable(unit.text, unit.is_list) and not addressed_to_model(unit.text):
                out.append(Quote(n, unit.position, unit.text, 0.0, unit.is_list))
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
    """True when most terms of the shorter of ``a`` and ``b`` are in the other."""
    ta, tb = required_terms(a), required_terms(b)
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= DUPLICATE_SHARE


def score_units(question: str, passages: Sequence[Any], scorer: Scorer = overlap_scorer,
                intent: QuestionIntent | None = None) -> list[Quote]:
    """Every quotable unit with its score (see the module docstring), best first."""
    intent = intent or classify(question)
    units = []
    safety = intent.kind is QuestionType.safety
    for n, passage in enumerate(passages, start=1):
        title = str(getattr(passage, "title", ""))
        text = str(getattr(passage, "text", ""))
        coverage = focus_coverage(intent, title)
        for unit in passage_units(text):
            if quotable(unit.text, unit.is_list) and not addressed_to_model(unit.text):
                # a list answers by its lead-in, but a warning list ("you should: Never smoke …") by its items
                signal = f"{unit.context} {unit.lead}" if unit.is_list and not safety else unit.text
                fit = population_fit(question, unit.text, f"{title} {text}") if safety else 0.0
                if fit < 0:  # a warning for adults does not answer a question about children
                    continue
                units.append((n, unit, title, coverage,
                              cue(intent, signal, section=unit.section, first=unit.position == 0), fit))
    if not units:
        return []
    similarity = scorer(question, [f"{title}: {unit.text}" for _n, unit, title, _c, _q, _f in units])
    scored = []
    for (n, unit, _title, coverage, unit_cue, fit), sim in zip(units, similarity):
        score = (float(sim) + CUE_WEIGHT * unit_cue + FOCUS_WEIGHT * coverage + POPULATION_WEIGHT * fit
                 - (ANAPHORA_PENALTY if _ANAPHORIC.match(unit.text) else 0.0))
        scored.append(Quote(n, unit.position, unit.text, score, unit.is_list, unit_cue))
    return sorted(scored, key=lambda q: (-q.score, q.n, q.position))


def select_quotes(question: str, passages: Sequence[Any], scorer: Scorer = overlap_scorer, *,
                  max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> list[Quote]:
    """The units that best answer ``question``, in display order (see the module docstring)."""
    intent = classify(question)
    ranked = score_units(question, passages, scorer, intent)
    if intent.kind is not QuestionType.other and any(q.cue > 0 for q in ranked):
        ranked = [q for q in ranked if q.cue > 0]
    if not ranked:
        return []
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
    """The answer as shown: each sentence of each quote with its exact citation before the full stop,
    ``"… [2]. … [1]."`` (a list quoted with the sentence that introduces it cites both)."""
    return " ".join(f"{s[:-1].rstrip()} [{q.n}]{s[-1]}" if s[-1] in ".!?" else f"{s} [{q.n}]"
                    for q in quotes for s in split_sentences(q.text))
