"""Has a claim that copies a passage sentence swapped one of its words for another? A veto for the support check.

The rules of :mod:`medstation.llm.meaning` ask whether every word of a claim is somewhere in the evidence unit
(a sentence or two adjacent ones) with the same polarity. A claim that copies one sentence but puts another
word in one slot -- "Colchicine lowers uric acid" where the passage says "Allopurinol lowers uric acid" and
names colchicine in the sentence before, "a day" turned into "a week", "babies" into "teenagers", "once"
into "every year" -- keeps every word "somewhere" and slips through. Those are the commonest ways a sentence
is misquoted, so they are checked by alignment, not word lists:

1. the claim and each passage sentence (and each pair of adjacent sentences) are aligned word by word
   (:class:`difflib.SequenceMatcher` on stems); the unit that matches most of the claim's meaningful words
   is the one the claim copies, when it matches at least :data:`MIN_MATCHED` of them (a loose paraphrase is
   left to the rules);
2. every stretch the alignment *replaces* is compared: the claim's meaningful words there that the unit
   does not contain against the unit's words there that the claim does not contain. Both sides non-empty
   and not the same thing said in other words (same word family, WordNet synonyms, or single-word/phrase
   embedding neighbours at >= :data:`medstation.llm.word_alignment.SIMILAR`, never an opposite) is a
   substitution: the claim is
   not supported by that passage.

"Meaningful": content words, and words that carry polarity by their class -- numbers (by value), people (by
role), direction, quantifier and modal words (by class), negation cues. Two words of different numbers,
people or classes are never the same thing said otherwise; pronouns and function words are never meaningful,
so "They can make your stools dark" does not stop "Iron tablets can make your stools dark".
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from medstation.llm.abbreviations import abbreviates
from medstation.llm.durations import same_duration
from medstation.llm.polarity import Analysis, Token
from medstation.llm.polarity_words import TIME_WORDS, UNITS
from medstation.llm.word_alignment import (
    _SHARED,
    SIMILAR,
    WordVectors,
    opposite,
    _refers_back,
    same_direction,
    same_family,
    synonyms_of,
)

#: Share of the claim's meaningful words that one passage unit must match in order (and at least
#: :data:`MIN_WORDS`) for the claim to count as a copy of it.
MIN_MATCHED = 0.6
MIN_WORDS = 2
#: A substitution is a slot: at most this many words on either side (a longer stretch is rewording).
MAX_SPAN = 4
PRONOUNS = frozenset("it its they them their this these those he she his her".split())
#: Nouns a passage uses to refer back ("the condition", "this medicine"): they name what the passage named.
ANAPHORS = frozenset("""condition disease illness disorder syndrome infection problem medicine medication drug
treatment vaccine virus procedure operation tablet tablets""".split())


def signature(t: Token) -> str:
    """What a token says, for comparing: a number by value, polarity words by class, other words by stem."""
    if t.number is not None:
        return f"#{t.number:g}"
    if t.role:
        return t.stem
    if t.cue:
        return "neg"
    if t.direction:
        return f"dir:{t.direction[0]}:{t.direction[1]}"
    if t.quantifier:
        return f"q:{t.quantifier}"
    if t.modal and not t.content:
        return f"m:{t.modal}"
    return t.stem if t.content else ""


def _closed(sig: str) -> bool:
    """Numbers and polarity classes: two different ones never mean the same."""
    return sig[:1] == "#" or sig.startswith(("neg", "dir:", "q:", "m:"))


def _alignment(claim: list[str], unit: list[str]) -> tuple[int, list[tuple[str, int, int, int, int]]]:
    """(meaningful claim words in equal blocks, opcodes) of the word alignment of two key sequences."""
    ops = SequenceMatcher(None, claim, unit, autojunk=False).get_opcodes()
    matched = sum(1 for tag, i1, i2, _, _ in ops if tag == "equal" for k in claim[i1:i2] if not k.startswith("_"))
    return matched, ops


def _keys(tokens: Sequence[Token]) -> list[str]:
    return [signature(t) or "_" + t.stem for t in tokens]


def _same_thing(said: list[Token], instead: list[Token], vectors: WordVectors | None) -> bool:
    """Whether the claim's words ``said`` state what the unit's ``instead`` states (see the module docstring)."""
    if instead and all(u.direction and u.direction[0] != "bound" for u in instead) and \
            not any(_closed(signature(t)) for t in said) and \
            (synonyms_of(said, instead, main=True) or same_direction(said, instead)):
        return True  # "set off" for "triggers", "lessen" for "reduce": a synonym of a direction word, its value
    if same_duration(said, instead):
        return True  # "a year" for "12 months"
    if abbreviates(said, instead) and not any(signature(t)[:1] == "#" or t.cue or t.quantifier or t.modal
                                              for t in said + instead):
        return True  # "DVT" for "deep vein thrombosis", "COPD" for "chronic obstructive ..." (a direction word)
    if any(_closed(signature(t)) for t in said + instead):
        return False
    if {t.role for t in said} != {u.role for u in instead}:
        return False  # people of another group ("teenagers" / "babies" may share a role, not the reverse)
    pool = [u.text for u in instead]
    if all(any(same_family(t.stem, u.stem) and not opposite(t.text, u.text) for u in instead) for t in said):
        return True
    if synonyms_of(said, instead):
        return True
    if vectors is None:
        return False
    phrases = [" ".join(t.text for t in said), " ".join(pool)]
    table = vectors.vectors([t.text for t in said] + pool + phrases)
    if table is None:
        return False
    if any(opposite(t.text, u) for t in said for u in pool):
        return False
    if float(table[phrases[0]] @ table[phrases[1]]) >= SIMILAR:
        return True
    return all(max(float(table[t.text] @ table[u]) for u in pool) >= SIMILAR for t in said)


def _swap(claim: Analysis, unit: Analysis, ops: list, vectors: WordVectors | None,
          before: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """The first replaced stretch of the alignment that says another thing (see the module docstring).

    A claim word in the stretch counts only when the unit has no copy of it outside the matched blocks (else
    the claim moved it: "should not be stopped suddenly" / "do not stop taking it suddenly"), and the same for
    the unit's words; so a word the claim says twice where the unit says it once is not "moved". Where the
    unit's stretch has a pronoun, claim words the passage names ``before`` the unit (or its topic) are what it
    refers to."""
    free_unit = {signature(u) for tag, _, _, j1, j2 in ops if tag != "equal" for u in unit.tokens[j1:j2]}
    free_claim = {signature(t) for tag, i1, i2, _, _ in ops if tag != "equal" for t in claim.tokens[i1:i2]}
    free_unit |= set(unit.title_stems)
    for tag, i1, i2, j1, j2 in ops:
        if tag != "replace" or max(i2 - i1, j2 - j1) > MAX_SPAN:
            continue
        said = [t for t in claim.tokens[i1:i2] if signature(t) and signature(t) not in free_unit]
        instead = [u for u in unit.tokens[j1:j2] if signature(u) and signature(u) not in free_claim]
        pronoun = next((u.text for u in unit.tokens[j1:j2] if u.text in PRONOUNS), "")
        if pronoun and j1 == 0 and unit.antecedent:
            # "They can make your stools dark" after "Iron tablets are ...": the claim must name what "they" is
            said = [t for t in said if signature(t) not in unit.antecedent and t.stem not in unit.antecedent]
            if said and not instead:
                return " ".join(t.text for t in said), pronoun
        elif pronoun:
            said = [t for t in said if signature(t) not in before]  # "Patients taking them": the drug named before
            said = [t for t in said if not _refers_back(claim.tokens, t.position)]  # "the disease" for "its"
            if said and not instead:
                return " ".join(t.text for t in said), pronoun  # "make [it] worse" is about what came before
        if len(instead) == 1 and instead[0].text in ANAPHORS and instead[0].position > 0 and \
                unit.tokens[instead[0].position - 1].text in ("the", "this", "that", "these", "those"):
            continue  # "people with the condition": the passage refers back to what the claim names
        if said and instead and not _same_thing(said, instead, vectors):
            return " ".join(t.text for t in said), " ".join(u.text for u in instead)
    return None


_OPENERS = frozenset("""and or but so which who that because if when while although though unless until since
whereas as""".split())


def _borrowed(claim: Analysis, unit: Analysis, ops: list, elsewhere: frozenset[str]) -> str | None:
    """A short qualifier of time, amount or number that the claim adds to the single sentence it copies, made
    of words another sentence of the passage says ("Most people recover without treatment [within an hour]"
    where the sentence before speaks of "within 8 hours"), or one more item for its list ("with breakfast [and
    dinner]" where dinner belongs to another sentence): taken from another statement, which this one does not
    make. A stretch that
    opens a clause of its own ("..., and taking them with juice helps") is a joined statement, not a qualifier."""
    own = {signature(u) for u in unit.tokens} | set(unit.title_stems) | set(unit.topic) | set(unit.antecedent)
    for tag, i1, i2, _, _ in ops:
        stretch = claim.tokens[i1:i2]
        if tag != "delete" or len(stretch) > MAX_SPAN:
            continue
        listed = stretch[0].text in ("and", "or") and not any(t.text in _OPENERS for t in stretch[1:])
        if not listed and any(t.text in _OPENERS for t in stretch):
            continue
        added = [t for t in stretch if signature(t) and signature(t) not in own and t.stem not in own]
        timed = any(t.number is not None or t.text in UNITS or t.text in TIME_WORDS or t.stem in UNITS for t in added)
        if added and (timed or listed) and all(signature(t) in elsewhere for t in added):
            return " ".join(t.text for t in added)
    return None


def added_words(claim: Analysis, unit: Analysis) -> set[str]:
    """Claim words (surface forms) that a copy of ``unit`` adds: the alignment deletes them from the claim, or
    they are in a replaced stretch whose unit side has no meaningful word ("works best [when it is given] within
    4.5 hours" / "works best within ..."). Empty when the claim is no copy of the unit (under MIN_MATCHED)."""
    claim_keys = _keys(claim.tokens)
    n_meaningful = len({k for k in claim_keys if not k.startswith("_")})
    matched, ops = _alignment(claim_keys, _keys(unit.tokens))
    if matched < max(MIN_WORDS, MIN_MATCHED * n_meaningful):
        return set()
    added = set()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "delete" or (tag == "replace" and not any(signature(u) for u in unit.tokens[j1:j2])):
            added |= {t.text for t in claim.tokens[i1:i2]}
    return added


def substitution(claim: Analysis, units: Sequence[Analysis], n_sentences: int | None = None,
                 vectors: WordVectors | None = _SHARED) -> tuple[str, str] | None:
    """(claim words, the unit's words) of a substitution in a unit the claim copies; None when there is none.
    The unit's words are "" when the claim adds a qualifier that another sentence says (:func:`_borrowed`).

    ``units``: a passage's sentences, then its adjacent pairs (the first ``n_sentences`` are single sentences,
    :class:`medstation.llm.support.PreparedPassage`). Both the best-matching unit and the best-matching single
    sentence are checked: a pair can match more words only because it lends the swapped-in word from the
    other sentence ("Colchicine lowers uric acid" against "... colchicine or steroids. Allopurinol lowers uric
    acid ...")."""
    claim_keys = _keys(claim.tokens)
    n_meaningful = len({k for k in claim_keys if not k.startswith("_")})
    if n_meaningful < MIN_WORDS:
        return None
    n_sentences = len(units) if n_sentences is None else n_sentences
    elsewhere = frozenset(signature(t) for unit in units[:n_sentences] for t in unit.tokens)
    prefixes = [frozenset(signature(t) for u in units[:k] for t in u.tokens) for k in range(n_sentences + 1)]
    scored = []
    for i, unit in enumerate(units):
        first = i if i < n_sentences else i - n_sentences  # a pair starts at its first sentence
        before = prefixes[min(first, n_sentences)] | unit.topic | unit.antecedent
        matched, ops = _alignment(claim_keys, _keys(unit.tokens))
        scored.append((matched + _named(claim, unit, ops, before), i, unit, ops, before))
    enough = max(MIN_WORDS, MIN_MATCHED * n_meaningful)
    picks = [max(scored, key=lambda s: (s[0], -s[1]))]
    if n_sentences:
        picks.append(max(scored[:n_sentences], key=lambda s: (s[0], -s[1])))
    for k, (matched, _, unit, ops, before) in enumerate(picks):
        if matched >= enough:
            swapped = _swap(claim, unit, ops, vectors, before)
            if swapped is not None:
                return swapped
            borrowed = _borrowed(claim, unit, ops, elsewhere) if k == len(picks) - 1 and n_sentences else None
            if borrowed is not None:
                return borrowed, ""
    return None


def _named(claim: Analysis, unit: Analysis, ops: list, before: frozenset[str]) -> int:
    """Claim words that name what a pronoun of the unit refers to ("gliclazide" for "Take it with breakfast"
    after sentences on gliclazide): they count as matched."""
    return sum(1 for tag, i1, i2, j1, j2 in ops if tag == "replace" and i2 - i1 <= MAX_SPAN
               and any(u.text in PRONOUNS for u in unit.tokens[j1:j2])
               and not any(signature(u) for u in unit.tokens[j1:j2])  # the pronoun and function words only
               for t in claim.tokens[i1:i2] if signature(t) and (signature(t) in before or t.stem in before))
