"""Safety questions ("Should children take aspirin?", "Is it safe to ...", "Can I take X with Y?"): quotes that
fit the people asked about and put warnings first.

Asked "Should children take aspirin?", a grounded answer quoted a Kawasaki-disease treatment sentence and
sentences about adults, while the Reye-syndrome warning sat in the retrieved passages. For a safety question
(:func:`is_safety_question`) the grounded selection therefore

* drops a unit that names only *other* people than the question does (the question says children, the unit
  speaks of adults only) -- people read with :mod:`medstation.llm.polarity` roles, pregnancy included;
* when some unit is a **warning** about the asked-for thing (a negation such as "not recommended", "should
  not", "avoid", or a warning word such as risk, danger, contraindicated) and names a focus word of the
  question, keeps only such warnings: a safety question is answered by what the passages say against it
  first, never by a treatment sentence of another condition that happens to name the same drug.

This module decides nothing about retrieval; what is not retrieved cannot be quoted.
"""

from __future__ import annotations

import re
from medstation.llm.polarity import ROLES, analyse
from medstation.llm.support import required_terms, terms

_SAFETY = re.compile(
    r"^\s*(?:should|can|could|may|must)\b.{0,60}\b(?:take|taking|use|using|eat|drink|have|get|give|given|combine|"
    r"mix|breast-?feed\w*|exercise|drive|receive)\b|^\s*(?:is it|are .{1,40}|is .{1,40})\b(?:safe|dangerous|ok|okay)\b|"
    r"\b(?:safe to|safe for|safe during|safe in|contraindicat\w*|interactions?|interact with|side effects? of)\b",
    re.IGNORECASE)
_PREGNANCY = re.compile(r"\bpregnan\w*|\bbreast-?feeding\b", re.IGNORECASE)
_WARNING_WORDS = re.compile(r"\b(?:risk|danger\w*|warning|warn\w*|caution|contraindicat\w*|serious|harm\w*|"
                            r"toxic\w*|fatal|life-threatening|reye)\b", re.IGNORECASE)
#: Groups of people a question or a quote can be about; a quote about another group of the same kind misfits.
POPULATION_KINDS = {"child": "age", "adult": "age", "male": "sex", "female": "sex"}
#: Question words that say nothing about *what* is asked about ("Should children take aspirin?" -> aspirin).
_GENERIC = frozenset("""take taking use using give giving safe eat drink get have okay happen happens ok alright
dangerous bad interact interaction side effect effects can could should may must""".split())


def is_safety_question(question: str) -> bool:
    """True for "should/can X take/use/eat ... Y", "is it safe ...", interactions, contraindications, side effects
    ("Can asthma be cured?" is not one: it asks about an outcome, not about doing something)."""
    return bool(_SAFETY.search(question))


def populations(text: str) -> set[str]:
    """The groups of people ``text`` speaks of: child, adult, male, female, pregnancy."""
    found = {t.role for t in analyse(text).tokens if t.role in POPULATION_KINDS}
    if _PREGNANCY.search(text):
        found.add("pregnancy")
    return found


def fits_population(question_groups: set[str], text: str) -> bool:
    """False when ``text`` names people of a kind the question names, but none of the question's own."""
    groups = populations(text)
    for kind in {POPULATION_KINDS.get(g) for g in question_groups} - {None}:
        asked = {g for g in question_groups if POPULATION_KINDS.get(g) == kind}
        said = {g for g in groups if POPULATION_KINDS.get(g) == kind}
        if said and not said & asked:
            return False
    return True


def is_warning(text: str) -> bool:
    """A negation cue or a warning word: what the passage says against doing something."""
    return any(t.cue for t in analyse(text).tokens) or bool(_WARNING_WORDS.search(text))


def focus_terms(question: str) -> set[str]:
    """What a safety question asks about: its required terms less people and generic verbs ("aspirin")."""
    return {t for t in required_terms(question) if t not in _GENERIC and t not in ROLES and not t.isdigit()}


def safety_filter(question: str, texts: list[str]) -> list[bool]:
    """Per unit text: may it answer the safety ``question`` (see the module docstring)? All True otherwise."""
    if not is_safety_question(question):
        return [True] * len(texts)
    asked = populations(question)
    fitting = [fits_population(asked, t) for t in texts]
    focus = focus_terms(question)
    warnings = [fit and bool(focus & terms(t)) and is_warning(t) for fit, t in zip(fitting, texts)]
    return warnings if any(warnings) else fitting
