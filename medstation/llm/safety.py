"""Safety questions: "Should children take aspirin?", "Is it safe to …", "Can X interact with Y?".

Such a question is answered by a warning or a permission, and only for the population it names.
Quoting "your child will receive high doses of aspirin" (Kawasaki disease treatment) to "Should children
take aspirin?" copies a verbatim sentence and still answers the wrong way. Three rules, no model:

* :data:`SAFETY_QUESTION` recognises the question (checked before the other question types);
* :data:`WARNING` / :data:`WEAK_WARNING` are the cues of a unit that answers it: a contraindication,
  warning, interaction or explicit permission ("do not give aspirin to children", "increases the risk",
  "should not use", "adults can also take");
* :func:`population_fit` keeps a unit only when it fits the population the question names (children,
  pregnancy, adults, older people, women, men) in its passage's context: a unit that names only another
  population is out; a unit that names none counts when its passage is about the asked population.

:func:`rerank_for_safety` applies the same cues to retrieval: a deeper candidate list is reordered so
passages that warn about the asked-for thing for the asked-for population come first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from medstation.llm.support import required_terms, terms


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_ACTION = (r"(take|taking|use|using|give|giving|drink|drinking|eat|eating|smoke|smoking|stop|start|put|travel|walk|"
           r"ask|punish|let|breastfeed|mix|combine|get|have|drive|handle|play|go)")
SAFETY_QUESTION = _rx(
    r"\b(is|are) (it|they|this|that)\b[^?]{0,20}\b(safe|ok|okay|all right|dangerous|harmful|risky)\b|"
    r"\b(safe|dangerous|harmful|risky) (to|for|during|while|when|with|if)\b|\bsafe\b\s*\?|"
    rf"^\s*(should|can|could|may|must|is it ok(ay)? to)\b[^?]{{0,60}}\b{_ACTION}\b|"
    r"\binteract|\bcontraindicat|\btogether with\b|\bin higher doses\b"
)

WARNING = _rx(
    r"\b(do not|don't|does not|doesn't|should not|shouldn't|must not|cannot|can't|never|avoid\w*|"
    r"not (be )?recommended|not safe|unsafe|no safe|(more |especially |very )?dangerous|harm\w*|"
    r"(can|may|could) (also )?cause|increases? (the |your )?risk|increase the risk|raise\w* (the |your )?risk|"
    r"interact\w*|recommend\w* other|instead of|warning|contraindicat\w*|"
    r"talk (to|with) your (doctor|health care provider) before|check with your (doctor|health care provider)|"
    r"(can|may) (also )?take|should (try to )?(take|give|use|have)|may need to take|"
    r"(don't|do not) need (any )?treatment)\b"
)
WEAK_WARNING = _rx(r"\brisk|\bcaution|\bcareful|\bsafe|\bside effects?\b|\bsafety\b")

# Population words by group. A unit that names a group the question does not (and not the asked one)
# answers for someone else.
POPULATIONS: dict[str, re.Pattern[str]] = {
    "children": _rx(r"\b(child|children|childhood|kids?|bab(y|ies)|infants?|newborns?|toddlers?|teens?|teenagers?|"
                    r"adolescents?|young (patients|people|children)|pediatric|paediatric|boys?|girls?|sons?|"
                    r"daughters?|(\w+)[- ]year[- ]old|under (four|4|two|2|twelve|12|16|18))\b"),
    "pregnancy": _rx(r"\b(pregnan\w*|expecting|unborn|fetus|foetus|breastfeed\w*|nursing mothers?)\b"),
    "adults": _rx(r"\badults?\b|\bgrown-?ups?\b"),
    "older": _rx(r"\b(older (adults|people|persons)|elderly|seniors?|aged \d\d)\b"),
    "women": _rx(r"\b(wom[ae]n|females?|mothers?|girls?)\b"),
    "men": _rx(r"\b(m[ae]n|males?|fathers?|boys?)\b"),
}
# Groups that exclude each other when a unit names one and the question the other.
_OPPOSED = {"children": {"adults", "older"}, "adults": {"children"}, "older": {"children"}, "pregnancy": set(),
            "women": {"men"}, "men": {"women", "pregnancy"}}


def is_safety_question(question: str) -> bool:
    """True for "should / can / is it safe / interact" questions about taking, using or doing something."""
    return bool(SAFETY_QUESTION.search(question))


def populations(text: str) -> set[str]:
    """The population groups named in ``text`` (keys of :data:`POPULATIONS`)."""
    return {name for name, rx in POPULATIONS.items() if rx.search(text)}


def population_fit(question: str, unit: str, context: str = "") -> float:
    """+1 the unit names the asked population; 0 neutral; -1 it names only an opposed population.

    ``context``: the passage's title and text, which decides for a unit that names no population
    ("Studies have shown that taking aspirin increases the risk of getting it." in the Reye syndrome passage,
    which is about children and teens)."""
    asked = populations(question)
    if not asked:
        return 0.0
    named = populations(unit)
    if named & asked:
        return 1.0
    opposed = set().union(*(_OPPOSED[a] for a in asked))
    if named & opposed:
        return -1.0
    if not named and context and populations(context) & asked:
        return 0.5
    return 0.0


def warning_cue(text: str) -> float:
    """1 for a warning, contraindication, interaction or explicit permission; 0.3 for a weak mention; else 0."""
    if WARNING.search(text):
        return 1.0
    return 0.3 if WEAK_WARNING.search(text) else 0.0


def subject_terms(question: str) -> set[str]:
    """What the question asks about, without the population and the modal words ("aspirin" in
    "Should children take aspirin?")."""
    out = set()
    for term in required_terms(question):
        if populations(term) or term in _QUESTION_WORDS:
            continue
        out.add(term)
    return out


_QUESTION_WORDS = frozenset(
    "safe ok okay dangerou harmful risky take taking use using give giving drink drinking eat eating get have "
    "should can could may must it is are my i you we they someone anyone people person".split())


def passage_safety_score(question: str, passage: Any) -> float:
    """How plainly ``passage`` warns about (or permits) the asked-for thing for the asked-for population.

    The best unit's ``warning_cue × share of subject terms in the unit or title + 0.5 × population fit``."""
    from medstation.llm.answer.passage_units import passage_units

    subject = subject_terms(question)
    title = str(getattr(passage, "title", ""))
    text = str(getattr(passage, "text", ""))
    title_terms = terms(title)
    best = 0.0
    for unit in passage_units(text):
        cue = warning_cue(unit.text)
        if cue < 1.0:
            continue
        unit_terms = terms(unit.text)
        covered = (len(subject & (unit_terms | title_terms)) / len(subject)) if subject else 0.0
        in_unit = bool(subject & unit_terms)
        score = cue * covered * (1.0 if in_unit else 0.6) + 0.5 * population_fit(question, unit.text,
                                                                                   f"{title} {text}")
        best = max(best, score)
    return best


def rerank_for_safety(question: str, passages: Sequence[Any], k: int) -> list[Any]:
    """The ``k`` best of a deeper candidate list for a safety question: passages that warn about the asked-for
    thing for the asked-for population first (ties keep the retrieval order)."""
    scored = [(passage_safety_score(question, p), i, p) for i, p in enumerate(passages)]
    scored.sort(key=lambda t: (-round(t[0], 3), t[1]))
    return [p for _s, _i, p in scored[:k]]


SAFETY_DEPTH = 20  # candidates read for a safety question before the warning rerank keeps ``k``


def warning_query(question: str) -> str:
    """A second query in the words a warning uses: "aspirin children should not avoid do not risk" for
    "Should children take aspirin?", so retrieval also reaches passages that warn rather than prescribe."""
    asked = populations(question)
    group_words = {"children": "children", "pregnancy": "pregnant women", "adults": "adults",
                   "older": "older adults", "women": "women", "men": "men"}
    subject = " ".join(sorted(subject_terms(question)))
    who = " and ".join(group_words[g] for g in sorted(asked)) or "people"
    return f"{who} should not take {subject}. Avoid {subject}; it can be dangerous and increase the risk."


def search_passages(kb, question: str, *, k: int, mode: str) -> list[Any]:
    """``kb.search(question, k, mode)``; for a safety question, the ``k`` best of the candidates of the question
    and of its :func:`warning_query` (:data:`SAFETY_DEPTH` each, fused by reciprocal rank; in hybrid mode the
    keyword rankings of both are added as lists of their own) after
    :func:`rerank_for_safety`, renumbered 1..k."""
    if not is_safety_question(question):
        return kb.search(question, k=k, mode=mode)
    from dataclasses import replace

    depth = max(k, SAFETY_DEPTH)
    warning = warning_query(question)
    lists = [kb.search(question, k=depth, mode=mode), kb.search(warning, k=depth, mode=mode)]
    if mode == "hybrid":
        # The one warning sentence in a long passage ("children with fevers should not take aspirin" in the
        # Fever passage) is found by its words, not by the passage's embedding; reciprocal-rank fusion would
        # bury a keyword-only hit under passages both retrievers like, so the keyword lists count on their own.
        lists += [kb.search(question, k=depth, mode="bm25"), kb.search(warning, k=depth, mode="bm25")]
    fused: dict[str, float] = {}
    by_id: dict[str, Any] = {}
    for ranked in lists:
        for rank, p in enumerate(ranked, start=1):
            key = str(getattr(p, "chunk_id", id(p)))
            fused[key] = fused.get(key, 0.0) + 1.0 / (60 + rank)
            by_id.setdefault(key, p)
    candidates = [by_id[key] for key, _score in sorted(fused.items(), key=lambda kv: -kv[1])]
    ranked = rerank_for_safety(question, candidates, k)
    return [replace(p, rank=i) if hasattr(p, "__dataclass_fields__") else p for i, p in enumerate(ranked, start=1)]
