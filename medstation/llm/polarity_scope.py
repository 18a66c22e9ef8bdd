"""Negation scope: which words a negation cue denies, and the word it is about (see :mod:`medstation.llm.polarity`).

A "clause" cue (``not``, ``never`` ...) denies the words after it to the end of its clause, a leading frame's cue
only to the frame's comma ("If you do not improve, | it is likely to work"); an "np" cue (``no``, ``without``)
its noun phrase, and a clause's subject "no" its verb too ("No further tests are needed"); a passive verb cue
("should be avoided") the subject before it. Shapes: ``tokens`` are :class:`~medstation.llm.polarity.Token` lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medstation.llm.polarity_words import NP_SCOPE_END, VERB_CUES

if TYPE_CHECKING:
    from medstation.llm.polarity import Analysis, Token


def negation_scopes(tokens: list[Token]) -> None:
    """Mark every token inside the scope of an odd number of negation cues."""
    for i, t in enumerate(tokens):
        if not t.cue or (t.text == "without" and i >= 2 and tokens[i - 1].text == "or" and
                         tokens[i - 2].text == "with"):
            continue  # "with or without food" says nothing negative
        if _passive_cue(tokens, i):  # "Soap should be avoided": the subject before the verb is what is avoided
            for u in _subject_of(tokens, i):
                u.negated = not u.negated
            continue
        if t.cue == "clause" and _passive_cue_after(tokens, i):
            for u in _subject_of(tokens, i):  # "X should not be stopped": "not" bears on X too, as in
                u.negated = not u.negated  # "do not stop X"
        # "No further tests are needed": a clause's subject "no" denies its verb too, like "tests are not needed"
        subject_no = t.text == "no" and all(u.frame for u in tokens[:i] if u.clause == t.clause)
        for u in tokens[i + 1:]:
            if u.clause != t.clause or ((t.cue == "np" or t.text in VERB_CUES) and u.text in NP_SCOPE_END
                                        and not subject_no) or \
                    (t.frame and not u.frame):  # "If you do not improve in 6 months, it is likely to work"
                break
            u.negated = not u.negated


_BE = frozenset("be been being is are was were".split())


def _passive_cue(tokens: list[Token], i: int) -> bool:
    """A verb cue in the passive ("should be avoided", "was stopped")."""
    return tokens[i].text in VERB_CUES and i > 0 and tokens[i - 1].text in _BE


def _passive_cue_after(tokens: list[Token], i: int) -> bool:
    """A negation directly before a passive verb cue ("should not be stopped", "must not be avoided")."""
    j = i + 1
    while j < len(tokens) and tokens[j].text in _BE:
        j += 1
    return j < len(tokens) and j > i + 1 and _passive_cue(tokens, j)


def _subject_of(tokens: list[Token], i: int) -> list[Token]:
    """The words of cue ``i``'s clause before its auxiliary chain (the passive subject)."""
    clause = [u for u in tokens[:i] if u.clause == tokens[i].clause]
    end = next((k for k, u in enumerate(clause) if u.text in NP_SCOPE_END), len(clause))
    return clause[:end]


_HEAD_SKIP = frozenset("""a an the be been being am is are was were have has had having do does did to really just very
even ever yet also get got that this it i you he she they we me him her them us my his their our your anymore any
at all much so too only currently longer more or and nor but of in on for with by as from""".split())


def scope_head(analysis: Analysis, cue: Token) -> Token | None:
    """The word a negation cue is about: the first meaningful word after it in its clause (content, direction,
    modal, role or number), else the first word that is not a function word."""
    scope = [u for u in analysis.tokens[cue.position + 1:] if u.clause == cue.clause]
    if _passive_cue(analysis.tokens, cue.position):
        scope = _subject_of(analysis.tokens, cue.position)
    first = next((u for u in scope if u.text not in _HEAD_SKIP), None)
    if cue.cue == "clause" and first is not None and first.text in VERB_CUES:
        return first  # "do not stop", "should not be stopped": the negation is about stopping
    candidates = [u for u in scope if u.text not in _HEAD_SKIP and not u.cue and not u.quantifier]
    meaningful = [u for u in candidates if u.content or u.direction or u.modal or u.role or u.number is not None]
    # the first meaningful word, unless a light verb comes first and is all there is ("can't go on")
    return (meaningful or candidates or [None])[0]
