"""Is a sentence of an answer actually said by a retrieved passage? A strict, measurable lexical check.

A sentence is **supported** by passage ``n`` when every *required term* of the
sentence occurs in that one passage (title included). Required terms are:

* content words: alphabetic tokens of 3+ letters that are not stop words;
* every number (``5.7``, ``140``, ``90%`` -> ``90``);
* negations (``no``, ``not``, ``never``, ``without``, ``n't`` ...): "no fever"
  is not supported by a passage that only says "fever".

Words are compared after light normalisation (lower case, possessive ``'s``
and plural endings removed), nothing looser: no synonyms, no partial overlap.
Word overlap alone (the old ``[≈n]`` match at 60 %) let invented sentences look
cited; here one missing term makes the sentence unsupported, and the missing
terms are recorded so a reader can see why. No offline entailment model ships
as a Python package (checked on PyPI), so the check stays lexical: it can call
a true paraphrase unsupported, never an invented term supported.

A sentence with model citation markers is first checked against the passages it
cites; if none supports it, any other passage that does is used instead (the
citation is corrected), else it is unsupported and carries no citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from medstation.llm.citations import MARKER, marker_numbers

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
NEGATIONS = frozenset("no not never without none cannot neither nor".split())
STOP_WORDS = frozenset(
    "the and for are but you all any can had her was one our out has his how its may who did get use "
    "with that this from they have been were will would there their what which when where your into than "
    "then them these those some such also more most other about over only very just each both being does "
    "because while should could after before between through during under again further here why own same "
    "passage passages source sources information answer answers question questions according include "
    "includes including included called known often usually many much might like well make makes made "
    "way ways thing things lot lots something someone people person".split()
)


def normalise(word: str) -> str:
    """Lower-case ``word`` without possessive and plural endings (``diseases`` -> ``disease``)."""
    word = word.lower()
    if word.endswith("n't"):
        return "not"
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> set[str]:
    """Every normalised token of ``text`` (the vocabulary a passage offers)."""
    return {normalise(t.replace(",", "")) for t in _TOKEN.findall(text.lower())}


def required_terms(sentence: str) -> set[str]:
    """The terms a passage must contain to support ``sentence`` (see the module docstring)."""
    required = set()
    for token in _TOKEN.findall(MARKER.sub(" ", sentence).lower()):
        word = normalise(token.replace(",", ""))
        if token in STOP_WORDS and word not in NEGATIONS:
            continue  # "does" is a stop word, its normal form "doe" is not
        if token[0].isdigit() or word in NEGATIONS or (len(word) >= 3 and word not in STOP_WORDS):
            required.add(word)
    return required


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (and lines), stripped, empty ones dropped. An inline list
    (``include - A - B - C.``) stays inside its sentence, so a quote never loses its subject."""
    return [s.strip(" -•*\t") for s in _SENTENCE_END.split(text) if s and s.strip(" -•*\t")]


@dataclass(frozen=True)
class SentenceSupport:
    """One sentence of an answer: its text (markers removed), whether a passage says it, and which.

    ``citations``: 1-based passage numbers that support the sentence (empty when unsupported);
    ``model_citations``: what the model wrote; ``missing``: required terms absent from the best passage.
    """

    text: str
    supported: bool
    citations: tuple[int, ...] = ()
    model_citations: tuple[int, ...] = ()
    missing: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "supported": self.supported, "citations": list(self.citations),
                "model_citations": list(self.model_citations), "missing": list(self.missing)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentenceSupport:
        return cls(str(data.get("text", "")), bool(data.get("supported")), tuple(data.get("citations") or ()),
                   tuple(data.get("model_citations") or ()), tuple(data.get("missing") or ()))


def cited_in(sentence: str) -> tuple[int, ...]:
    """Passage numbers the markers of ``sentence`` point at, in order, without repeats."""
    numbers: list[int] = []
    for match in MARKER.finditer(sentence):
        numbers.extend(n for n in marker_numbers(match.group(1)) if n not in numbers)
    return tuple(numbers)


def check_sentence(sentence: str, passage_vocabularies: Sequence[set[str]]) -> SentenceSupport:
    """Support of one sentence against passages given as :func:`terms` sets (index 0 is passage 1)."""
    model_cited = tuple(n for n in cited_in(sentence) if 1 <= n <= len(passage_vocabularies))
    text = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", sentence)).strip()
    required = required_terms(text)
    if not required:
        return SentenceSupport(text, False, (), model_cited, ())
    order = list(model_cited) + [n for n in range(1, len(passage_vocabularies) + 1) if n not in model_cited]
    best_missing: tuple[str, ...] | None = None
    for n in order:
        missing = required - passage_vocabularies[n - 1]
        if not missing:
            return SentenceSupport(text, True, (n,), model_cited, ())
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = tuple(sorted(missing))
    return SentenceSupport(text, False, (), model_cited, best_missing or ())


def check_answer(text: str, passage_texts: Sequence[str]) -> tuple[SentenceSupport, ...]:
    """Every sentence of ``text`` checked against ``passage_texts`` (passage ``n`` is index ``n - 1``)."""
    vocabularies = [terms(p) for p in passage_texts]
    return tuple(check_sentence(s, vocabularies) for s in split_sentences(text) if MARKER.sub("", s).strip(" .,;"))
