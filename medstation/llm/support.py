"""Is a sentence of an answer actually said by a retrieved passage, with the same meaning? A strict check.

A sentence is **supported** by passage ``n`` when one sentence of that passage, or two adjacent ones,
states it with the same polarity (:func:`medstation.llm.meaning.compare`, rules in
:mod:`medstation.llm.polarity`):

* every content word of the sentence is there (light stemming, the passage title counts), and every
  number with its unit;
* negation scope matches: a passage's "not recommended" never supports "recommended", and "no fever"
  never supports "fever"; the sentence's own negations must be the passage's too;
* direction and comparison words agree (before/after, over/under, higher/lower, increase/decrease,
  more/less, left/right, dominant/recessive); quantifiers (all/most/some/few, always/usually/rarely) and
  modality (must/should/may) agree; people are not swapped (men/women, children/adults; type 1/type 2
  by its number), nor the two sides of "than", "into", "causes".

Beyond the rules of one unit: a claim that copies a sentence but swaps one slot for a word said elsewhere in
the passage is refused (:mod:`medstation.llm.substitution`); a sentence opening with It/They names the previous
subject, and the passage topic is said of every sentence (:mod:`medstation.llm.passage_context`); a sentence
joining statements is supported when each is (:mod:`medstation.llm.claim_parts`); a light word ("is given",
"cut down") added to a copied sentence is forgiven, unless another unit of the passage states the claim with
another polarity. Words said otherwise are matched by :func:`medstation.llm.word_alignment.align` (word families,
WordNet synonyms from ``resources/lexicon``, abbreviations, embedding neighbours), and every rule then reads the
passage's word.

Word overlap alone (the old ``[≈n]`` match at 60 %, then a bag of required words) let invented or reversed
sentences look cited. No entailment (NLI) or cross-encoder model is installed or downloadable offline, so
the check is rule-based: it can call a true paraphrase unsupported, and is tuned so that it rarely calls a
contradiction supported (figures in docs/MEASUREMENTS.md, from ``benchmarks/eval_support_check.py``).
A verbatim quote of a passage sentence (or of a list with its lead-in) is supported at once.

A sentence with model citation markers is first checked against the passages it cites; if none supports it,
any other passage that does is used instead (the citation is corrected), else it is unsupported and carries
no citation. ``missing`` names the words at fault and ``reason`` says why, in one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from medstation.llm.answer.citations import MARKER, marker_numbers
from medstation.llm.claim_parts import claim_parts
from medstation.llm.meaning import Verdict, compare
from medstation.llm.polarity import Analysis, analyse, join, stem, title_stems
from medstation.llm.passage_context import (
    opens_with_pronoun,
    topic_frame,
    sentence_subject,
    subject,
    topic,
    topic_in_subject_slot,
)
from medstation.llm.restriction import Limit, dropped_limit
from medstation.llm.substitution import added_words, substitution
from medstation.llm.word_alignment import align

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
    ``model_citations``: what the model wrote; ``missing``: the sentence's words at fault in the closest
    passage (absent terms, or the negation/direction/number that differs); ``reason``: why, in one sentence.
    """

    text: str
    supported: bool
    citations: tuple[int, ...] = ()
    model_citations: tuple[int, ...] = ()
    missing: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "supported": self.supported, "citations": list(self.citations),
                "model_citations": list(self.model_citations), "missing": list(self.missing), "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentenceSupport:
        return cls(str(data.get("text", "")), bool(data.get("supported")), tuple(data.get("citations") or ()),
                   tuple(data.get("model_citations") or ()), tuple(data.get("missing") or ()),
                   str(data.get("reason") or ""))


def cited_in(sentence: str) -> tuple[int, ...]:
    """Passage numbers the markers of ``sentence`` point at, in order, without repeats."""
    numbers: list[int] = []
    for match in MARKER.finditer(sentence):
        numbers.extend(n for n in marker_numbers(match.group(1)) if n not in numbers)
    return tuple(numbers)


_BULLET = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class PreparedPassage:
    """A passage cut into checkable units: each sentence and each pair of adjacent sentences, analysed once
    (the first ``n_sentences`` units are the single sentences).

    ``words``: the passage's lower-case words and ``boundaries`` the word indices where a line or sentence
    starts or ends (for the verbatim-quote shortcut).
    """

    units: tuple[Analysis, ...]
    words: tuple[str, ...]
    boundaries: frozenset[int]
    n_sentences: int = 0

    def sentences_of(self, index: int) -> list[Analysis]:
        """The single sentences unit ``index`` is made of: itself, the two of a pair, none for a list unit."""
        n = self.n_sentences
        if index < n:
            return [self.units[index]]
        if index < n + max(0, n - 1):
            return [self.units[index - n], self.units[index - n + 1]]
        return []


def passage_sentences(text: str) -> tuple[str | None, list[str]]:
    """(title or None, sentences) of a passage given as ``"Title\\ntext"`` or plain text.

    A first line without end punctuation is the title; a list (lines after a line ending with ":" or
    bulleted lines) stays one sentence with its lead-in, as the grounded answer quotes it."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = None
    if len(lines) > 1 and not lines[0].endswith((".", "!", "?", ":")) and len(lines[0].split()) <= 12:
        title = lines.pop(0)
    groups: list[str] = []
    for line in lines:
        if groups and (_BULLET.match(line) or groups[-1].rstrip().endswith(":") or
                       (_BULLET.match(groups[-1].splitlines()[-1]) and not line[:1].isupper())):
            groups[-1] += "\n" + line
        else:
            groups.append(line)
    sentences = [s.strip() for g in groups for s in re.split(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])", g) if s.strip()]
    return title, sentences


def prepare_passage(text: str) -> PreparedPassage:
    title, sentences = passage_sentences(text)
    titles = title_stems(title or "")
    singles: list[Analysis] = []
    for sentence in sentences:
        analysis = analyse(sentence, titles=titles)
        if singles and opens_with_pronoun(analysis):
            analysis = replace(analysis, antecedent=subject(singles[-1]))
        singles.append(analysis)
    about = topic(singles[0]) if singles else frozenset()
    singles = [replace(a, topic=about if i else frozenset(), subjects=sentence_subject(a))
               for i, a in enumerate(singles)]
    pairs = [join(a, b) for a, b in zip(singles, singles[1:])]
    # A list with its lead-in, as the grounded answer quotes it ("… include: Coughing; Wheezing; …"): a line
    # list whose items carry explanations ("Coughing. Coughing from asthma …") is not one sentence here.
    from medstation.llm.answer.passage_units import passage_units  # it splits sentences with this module

    lists = [analyse(u.text, titles=titles) for u in passage_units(text) if u.is_list]
    words: list[str] = []
    boundaries = {0}
    for line in text.splitlines():
        for piece in re.split(r"(?<=[.!?:])\s+", line):
            words += _WORDS.findall(piece.lower())
            boundaries.add(len(words))
    return PreparedPassage(tuple(singles + pairs + lists), tuple(words), frozenset(boundaries), len(singles))


#: Words a rewording adds without saying anything new: particles of phrasal verbs ("cut down", "go back"),
#: light verbs ("helps reduce", "is given within 4.5 hours", "is considered a fever") and emphasis ("far more
#: often", "both boys and girls"). They never carry polarity (negation, direction, numbers, people, hedges stay
#: checked). One missing from the passage is forgiven only where the claim copies a passage sentence and the
#: word is *added* to it (:func:`medstation.llm.substitution.added_words`): "The vaccine can give you flu" is not
#: said by "The flu vaccine is offered every year", where "give" stands for the passage's verb. Stems.
LIGHT_WORDS = frozenset(stem(w) for w in """down up out off back away help helps give given take taken make makes
put get gets considered far both together""".split())
#: Verbs that say little beyond their object ("take insulin", "leave 4 hours", "cereals contain folic acid",
#: "drinking grapefruit juice can raise ..." where the passage says "need insulin", "4 hours apart", "folic acid is
#: found in cereals", "grapefruit juice can raise ..."). Forgiven only when the
#: passage states the object (:func:`_light_verbs_with_objects`); negation, direction and modality stay checked.
#: Causatives ("make/keep/get X worse") are not light: they say what happens to their object.
LIGHT_VERBS = frozenset(stem(w) for w in "take taking leave have contain give put use find drink eat".split())


def _light_verbs_with_objects(claim: Analysis, unit: Analysis, missing: Sequence[str]) -> bool:
    """Every missing word is a light verb whose object (the next content words or number of its clause, up to
    two) the passage unit states."""
    vocab = unit.vocabulary()
    for word in missing:
        if stem(word) not in LIGHT_VERBS:
            return False
        at = next((t for t in claim.tokens if t.text == word), None)
        if at is None:
            return False
        after = [t for t in claim.tokens[at.position + 1:at.position + 5] if t.clause == at.clause]
        modal = next((k for k, t in enumerate(after) if t.modal), None)
        after = after[:modal]  # "Drinking grapefruit juice | can raise ...": the gerund's object ends at the verb
        objects = [t for t in after if (t.content or t.number is not None) and stem(t.text) not in LIGHT_VERBS][:2]
        if any(t.direction and t.direction[0] != "bound" for t in after):
            return False  # "leave people more likely to ...": the verb says what happens, not a light one
        if not objects or any((t.role or t.stem) not in vocab for t in objects):
            return False
    return True


def support_verdict(sentence: str, passage: PreparedPassage, claim: Analysis | None = None,
                    parts: bool = True) -> Verdict:
    """Whether ``passage`` states ``sentence``; a failing verdict is the closest unit's (fewest words at fault).

    A sentence no unit states may join statements (:func:`medstation.llm.claim_parts.claim_parts`): it is
    supported when the passage states each of them."""
    words = tuple(_WORDS.findall(sentence.lower()))
    if words and any(start + len(words) in passage.boundaries and passage.words[start:start + len(words)] == words
                     for start in passage.boundaries):
        return Verdict(True, "quoted verbatim")  # whole sentences, lines or a list with its lead-in
    claim = claim or analyse(sentence)
    framed = topic_frame(sentence)
    best: Verdict | None = None
    best_key: tuple[int, int, int] = (2, 0, 0)
    full_claim = claim

    def claim_for(unit: Analysis) -> Analysis:
        if framed is not None and framed[0] and framed[0] <= unit.topic - {t.stem for t in unit.tokens}:
            return framed[1]  # "After a hip replacement, ...": the passage's topic, said of its later sentences
        return full_claim

    contradicted: list[bool] = []  # computed once, when a light word would be forgiven
    for index, unit in enumerate(passage.units):
        claim = claim_for(unit)
        verdict = compare(claim, unit, reword=align)
        if not verdict.ok and verdict.reason.startswith("not in the passage") and \
                ((all(stem(w) in LIGHT_WORDS for w in verdict.words) and added_words(claim, unit) >= set(verdict.words))
                 or _light_verbs_with_objects(claim, unit, verdict.words)):
            if not contradicted:
                contradicted.append(any(_polarity_failure(compare(claim_for(u), u, reword=align))
                                        for u in passage.units))
            if not contradicted[0]:  # "The vaccine cannot give you flu" elsewhere: "give" is not a light word here
                verdict = compare(claim, unit, reword=align, free={stem(w) for w in verdict.words})
        if verdict.ok and topic_in_subject_slot(claim, unit):
            verdict = Verdict(False, "the passage says this of something else, not of its topic")
        if verdict.ok:
            limit = _dropped_limit(claim, passage, index)
            if limit is not None:
                verdict = Verdict(False, f"the passage limits this to '{limit.phrase}'", (limit.phrase,))
        if verdict.ok:
            swapped = substitution(claim, passage.units, passage.n_sentences)
            if swapped is not None:  # every word is somewhere, but the sentence it copies says another thing
                return Verdict(False, f"the passage says '{swapped[1]}' where the sentence says '{swapped[0]}'"
                               if swapped[1] else f"'{swapped[0]}' is said of another statement in the passage",
                               (swapped[0],))
            return verdict
        key = _closeness(verdict, claim, unit)
        if best is None or key < best_key:
            best, best_key = verdict, key
    pieces = claim_parts(sentence) if parts else [sentence]
    if len(pieces) > 1 and all(support_verdict(p, passage, parts=False).ok for p in pieces):
        return Verdict(True, "each joined statement is stated")
    return best or Verdict(False, "the passage has no sentence")


def _polarity_failure(verdict: Verdict) -> bool:
    """A unit that has every word of the claim but says it otherwise (negation, direction, number, hedge, roles)."""
    return not verdict.ok and not verdict.reason.startswith(("not in the passage", "the passage's word for"))


def _dropped_limit(claim: Analysis, passage: PreparedPassage, index: int) -> Limit | None:
    """A limit (:mod:`medstation.llm.restriction`) that a passage sentence of unit ``index`` puts on what the claim
    takes from it, and the claim drops. Of a pair, a sentence counts when it shares two of the claim's content words,
    or the most."""
    sentences = passage.sentences_of(index)  # none for a list with its lead-in
    claimed = {t.stem for t in claim.tokens if t.content}
    shared = [len(claimed & {t.stem for t in s.tokens if t.content}) for s in sentences]
    for sentence, n_shared in zip(sentences, shared):
        if n_shared < 2 and n_shared < max(shared):
            continue
        limit = dropped_limit(claim, sentence.text, sentence.topic | sentence.title_stems | sentence.antecedent)
        if limit is not None:
            return limit
    return None


def _closeness(verdict: Verdict, claim: Analysis | None = None, unit: Analysis | None = None) -> tuple[int, int, int]:
    """Sort key: a dropped limit (everything else holds) is closest, then a polarity failure (all words present),
    then missing words; then, given the ``claim`` and the ``unit`` the verdict was reached on, the unit that shares
    more of the claim's words that carry meaning (content, direction, quantity, modality, numbers); fewer words at fault closer.

    So "If you have a cold, you need antibiotics" against "Antibiotics do not help a viral infection. If you have a
    cold, you dont need antibiotics" reports the second sentence's dropped negation, not the first sentence's silence
    about colds. Only which reason is shown depends on this, never whether a sentence is supported."""
    if verdict.reason.startswith("the passage limits"):
        return (-1, 0, 0)
    shared = 0
    if claim is not None and unit is not None:
        meaningful = {t.stem for t in claim.tokens
                      if t.content or t.direction or t.quantifier or t.modal or t.number is not None}
        shared = len(meaningful & unit.vocabulary())
    return (1 if verdict.reason.startswith("not in the passage") else 0, -shared, len(verdict.words))


def check_sentence(sentence: str, passages: Sequence[PreparedPassage]) -> SentenceSupport:
    """Support of one sentence against prepared passages (index 0 is passage 1)."""
    model_cited = tuple(n for n in cited_in(sentence) if 1 <= n <= len(passages))
    text = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", sentence)).strip()
    claim = analyse(text)
    if not any(t.content or t.number is not None for t in claim.tokens):
        return SentenceSupport(text, False, (), model_cited, (), "no statement to check")
    order = list(model_cited) + [n for n in range(1, len(passages) + 1) if n not in model_cited]
    best: Verdict | None = None
    for n in order:
        verdict = support_verdict(text, passages[n - 1], claim)
        if verdict.ok:
            return SentenceSupport(text, True, (n,), model_cited, (), "")
        if best is None or _closeness(verdict) < _closeness(best):
            best = verdict
    best = best or Verdict(False, "no passage")
    return SentenceSupport(text, False, (), model_cited, best.words, best.reason)


def check_answer(text: str, passage_texts: Sequence[str]) -> tuple[SentenceSupport, ...]:
    """Every sentence of ``text`` checked against ``passage_texts`` (passage ``n`` is index ``n - 1``)."""
    prepared = [prepare_passage(p) for p in passage_texts]
    return tuple(check_sentence(s, prepared) for s in split_sentences(text) if MARKER.sub("", s).strip(" .,;"))


def check_claim(sentence: str, passage_texts: Sequence[str]) -> tuple[int | None, str]:
    """(0-based index of the first passage that states ``sentence``, or None; the reason when none does)."""
    result = check_sentence(sentence, [prepare_passage(p) for p in passage_texts])
    return (result.citations[0] - 1 if result.supported else None), result.reason
