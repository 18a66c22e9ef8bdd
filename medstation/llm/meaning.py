"""Does one text state what another states, with the same polarity? Deterministic comparison of two analyses.

``compare(claim, evidence)`` (both :class:`~medstation.llm.polarity.Analysis`) returns a :class:`Verdict`.
The claim holds only when, in order:

1. **coverage** -- every content word of the claim is in the evidence (stems; people by role; a passage
   title's words count);
2. per claim clause, against the evidence window (1-3 adjacent clauses) that shares most of its words:
   **numbers** with their units are there; **roles** (men/women, children/adults, mother/partner ...) are
   there and in the same order (passive "by" agents first); **direction** words have the same value where
   they attach (a passage "less common" never supports "more common"); **quantifiers** and **modality**
   agree (a dropped "usually"/"may"/"should" makes the claim stronger than the evidence); **relations**
   around ``than``/``into``/``from``/``causes`` are not reversed;
3. **negation** -- the word each negation cue is about (its scope head) is negated on the other side too,
   in both directions: "not recommended" never supports "recommended", "no fever" never supports "fever".

``strict=True`` (note rewrites) also refuses a claim that drops one of several quantifiers or modals; the
chat's support check refuses a dropped hedge only when the claim has none of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from medstation.llm.meaning_roles import _causal, _client_side, _population_dropped, _relations, _roles
from medstation.llm.meaning_verdict import OK, Verdict, key as _key
from medstation.llm.polarity import Analysis, Token, scope_head

HEDGES = frozenset({"most", "often", "some", "few"})
MODAL_HEDGES = frozenset({"possibility", "advice", "obligation"})
MAX_WINDOW = 3
_RELATIVE = frozenset({"who", "that", "which", "whose"})


def coverage(claim: Analysis, evidence: Analysis, free: Iterable[str] = ()) -> list[str]:
    """Claim content words the evidence does not contain (empty: all covered)."""
    vocab, extra = evidence.vocabulary(), set(free)
    return [t.text for t in claim.tokens if t.content and _key(t) not in vocab and _key(t) not in extra]


def _window(clause: list[Token], evidence: Analysis) -> list[Token]:
    """The 1..MAX_WINDOW adjacent evidence clauses that share most words with ``clause``.

    Score: shared content words (numbers, directions included) + 0.2 per shared function word - 1.5 per extra
    clause, so a window grows only when that brings at least two more of the claim's words."""
    wanted = {_key(t) for t in clause if t.content or t.number is not None or t.direction}
    function = {t.stem for t in clause} - wanted
    bigrams = {(a.stem, b.stem) for a, b in zip(clause, clause[1:])}
    by_clause = [evidence.clause(i) for i in range(evidence.n_clauses)]
    best, best_score = [], float("-inf")
    for size in range(1, MAX_WINDOW + 1):
        for start in range(0, max(1, len(by_clause) - size + 1)):
            tokens = [t for c in by_clause[start:start + size] for t in c]
            keys = {_key(t) for t in tokens} | {t.stem for t in tokens}
            # ties go to the window that keeps more of the clause's word pairs ("who inherit one copy")
            pairs = len(bigrams & {(a.stem, b.stem) for a, b in zip(tokens, tokens[1:])})
            score = len(wanted & keys) + 0.2 * len(function & keys) - 1.5 * (size - 1) + 0.01 * pairs
            if score > best_score:
                best, best_score = tokens, score
    if best and best[0].text in _RELATIVE and best[0].clause > 0 and len(by_clause[best[0].clause - 1]) <= 3:
        best = by_clause[best[0].clause - 1] + best  # "Infants | who are infected ...": the head noun is its subject
    after = best[-1].clause + 1 if best else len(by_clause)
    if after < len(by_clause) and by_clause[after] and by_clause[after][0].text == "which" and \
            len(by_clause[after]) <= 4:
        best = best + by_clause[after]  # "... dark or black, | which is harmless": said of the clause before
    return best


def _numbers(clause: list[Token], window: list[Token]) -> Verdict:
    for t in clause:
        if t.number is None:
            continue
        said_n = sum(1 for u in window if u.number == t.number)
        if sum(1 for u in clause if u.number == t.number) > said_n > 0:
            return Verdict(False, f"the number {t.text} appears more often than in the passage", (t.text,))
        if not any(u.number == t.number and (not t.unit or u.unit == t.unit or u.unit in t.counted or
                                             t.unit in u.counted) for u in window):
            said = [f"{u.number:g} {u.unit}".strip() for u in window if u.number is not None]
            return Verdict(False, f"the number {t.text} {t.unit} is not the passage's"
                                  + (f" ({', '.join(said)})" if said else ""), (t.text,))
        swapped = _number_swapped(t, window)
        if swapped is not None:
            return Verdict(False, f"the passage gives {swapped.text} {swapped.unit}, not {t.text}, for "
                                  f"'{' '.join(t.counted)}'", (t.text,))
    return OK


def _number_swapped(t: Token, window: list[Token]) -> Token | None:
    """The window's other number for what claim number ``t`` counts, where the window never counts it with ``t``:
    "15% are foodborne, 65% are infant botulism" never supports "65% are foodborne"."""
    counted = set(t.counted)
    if not counted:
        return None
    if any(u.number == t.number and counted & set(u.counted) for u in window):
        return None
    return next((u for u in window if u.number is not None and u.number != t.number and u.unit == t.unit
                 and counted & set(u.counted)), None)


def _context(tokens: list[Token], index: int) -> set[str]:
    """Content words next to ``tokens[index]``: one before, two after (what a direction word modifies)."""
    before = [_key(t) for t in tokens[:index] if t.content][-1:]
    after = [_key(t) for t in tokens[index + 1:] if t.content][:2]
    return set(before + after)


def _modified(tokens: list[Token], index: int) -> Token | None:
    """The word a direction word qualifies: the next content/direction word within 3, else the one before it."""
    for u in tokens[index + 1:index + 4]:
        if u.clause != tokens[index].clause:
            break
        if u.content or u.direction:
            return u
    if index > 0 and tokens[index - 1].clause == tokens[index].clause and \
            (tokens[index - 1].content or tokens[index - 1].direction):
        return tokens[index - 1]
    return None


def _attached(clause: list[Token], window: list[Token], index: int, evidence: Analysis) -> Verdict:
    """Where the evidence qualifies the same word with the same direction group, the values must agree (in the
    aligned window, or anywhere in the evidence when the window lacks the word)."""
    t = clause[index]
    target = _modified(clause, index)
    if target is None:
        return OK
    if not any(_key(u) == _key(target) for u in window):
        window = evidence.tokens
    values = set()
    for j, u in enumerate(window):
        if _key(u) != _key(target):
            continue
        for v in window[max(0, j - 3):j + 2]:
            if v.clause == u.clause and v is not u and v.direction and v.direction[0] == t.direction[0]:
                values.add(v.direction[1])
    if values and t.direction[1] not in values:
        return Verdict(False, f"direction differs: the passage does not say '{t.text} {target.text}'", (t.text,))
    return OK


def _modal_attached(clause: list[Token], window: list[Token], index: int) -> Verdict:
    """A modal bears on the verb after it: where the window puts a modal before the same verb, the class agrees
    ("patients should ask" never supports "patients may ask", whatever other modal the clause has)."""
    def verb_after(tokens: list[Token], i: int) -> str:
        return next((u.stem for u in tokens[i + 1:i + 5] if u.clause == tokens[i].clause and u.content), "")

    verb = verb_after(clause, index)
    said = {u.modal for j, u in enumerate(window) if u.modal and verb and verb_after(window, j) == verb}
    if said and clause[index].modal not in said:
        return Verdict(False, f"modality differs: the passage does not say '{clause[index].text} ... {verb}'",
                       (clause[index].text,))
    return OK


def _directions(clause: list[Token], window: list[Token], evidence: Analysis) -> Verdict:
    for i, t in enumerate(clause):
        if not t.direction:
            continue
        group, value = t.direction
        same = [j for j, u in enumerate(window) if u.direction == (group, value)]
        other = [j for j, u in enumerate(window) if u.direction and u.direction[0] == group and u.direction[1] != value]
        if not same and not other and _said_elsewhere(clause, i, "direction", evidence):
            continue  # the window lacks it, but the passage qualifies the same words so elsewhere
        if not same and not other and _names_topic(clause, i, evidence):
            continue  # "low blood sugar" where the passage is about low blood sugar
        if not same:
            said = sorted({window[j].text for j in other})
            return Verdict(False, f"the passage does not say '{t.text}'" + (f" (it says '{said[0]}')" if said else ""),
                           (t.text,))
        if other:
            context = _context(clause, i)
            best_same = max(len(context & _context(window, j)) for j in same)
            best_other = max(len(context & _context(window, j)) for j in other)
            if best_other > best_same:
                return Verdict(False, f"direction differs: the passage says '{window[other[0]].text}' here",
                               (t.text,))
    return OK


def _names_topic(clause: list[Token], index: int, evidence: Analysis) -> bool:
    """The direction word is part of the passage topic's name with the noun after it ("low | blood sugar")."""
    noun = next((u for u in clause[index + 1:] if u.content), None)
    return clause[index].stem in evidence.topic and noun is not None and noun.stem in evidence.topic


def _classes(tokens: Iterable[Token], attr: str) -> set[str]:
    return {getattr(t, attr) for t in tokens if getattr(t, attr)}


def _near(clause: list[Token], window: list[Token]) -> list[Token]:
    """Window tokens in clauses that share a content word with ``clause`` (where its hedges would sit)."""
    shared = {_key(t) for t in clause if t.content}
    return [t for t in window if any(_key(u) in shared for u in window if u.clause == t.clause)]


def _bears_on(tokens: list[Token], index: int) -> set[str]:
    """What a hedge word qualifies: the next two content or direction words of its clause, else the one before
    ("usually goes away" -> go, away; "most moles" -> mole; "may prevent attacks" -> prevent, attack); for a
    direction word both sides ("oats are usually safe for people" -> oat, people)."""
    t = tokens[index]
    same = [u for u in tokens if u.clause == t.clause and (u.content or u.direction) and u is not t]
    after = [_key(u) for u in same if u.position > t.position][:2]
    before = [_key(u) for u in same if u.position < t.position][-1:]
    return set(after + before) if t.direction else set(after) if after else set(before)


def _said_elsewhere(clause: list[Token], index: int, attr: str, evidence: Analysis) -> bool:
    """The evidence qualifies what this claim hedge qualifies with the same class, outside the aligned window
    ("... Muscle pain is the most common side effect, and it usually goes away": the window is the first
    clause, "usually" sits in the second)."""
    target, value = _bears_on(clause, index), getattr(clause[index], attr)
    tokens = evidence.tokens
    return bool(target) and any(getattr(u, attr) == value and target & _bears_on(tokens, j)
                                for j, u in enumerate(tokens))


def _hedges(claim_clauses: list[list[Token]], windows: list[list[Token]], strict: bool,
            evidence: Analysis | None = None) -> Verdict:
    """Quantifiers and modals: each one the claim says is in its aligned window (or qualifies the same words
    elsewhere in the evidence); a hedge the evidence says ("usually", "may", "should") is somewhere in the
    claim (strict: every one; else when the claim has none, and only a hedge that bears on a word the claim
    states: "DVT is a clot, usually in the leg" has no hedge on "long flights raise the risk").

    A claim's "may"/"can" where the evidence has no modal near it is weaker than the evidence, not another
    statement ("Stress can trigger migraine" from "Stress triggers migraine"), unless strict."""
    near = [t for clause, window in zip(claim_clauses, windows) for t in _near(clause, window)]
    claim_tokens = [t for clause in claim_clauses for t in clause]
    claim_keys = {_key(t) for t in claim_tokens if t.content or t.direction}
    for attr, hedges, what in (("quantifier", HEDGES, "quantifier"), ("modal", MODAL_HEDGES, "modality")):
        for clause, window in zip(claim_clauses, windows):
            said_here = _classes(_near(clause, window), attr)
            for c in _classes(clause, attr) - said_here:
                i = next(i for i, t in enumerate(clause) if getattr(t, attr) == c)
                if not strict and evidence is not None and _said_elsewhere(clause, i, attr, evidence):
                    continue
                if not strict and c == "possibility" and not said_here:
                    continue
                return Verdict(False, f"{what} differs: the passage does not say '{clause[i].text}'",
                               (clause[i].text,))
        claimed, said = _classes(claim_tokens, attr), _classes(near, attr)
        dropped = {c for c in said - claimed if c in hedges} if (strict or not claimed) else set()
        if dropped and not strict:
            dropped = {t_attr for t_attr in dropped
                       if any(getattr(u, attr) == t_attr and _bears_on(near, j) & claim_keys
                              for j, u in enumerate(near))}
        if dropped:
            word = next(t.text for t in near if getattr(t, attr) in dropped)
            return Verdict(False, f"{what} dropped: the passage says '{word}'", (word,))
    return OK


def _negated_somewhere(head: Token, tokens: list[Token]) -> bool | None:
    """None when ``head`` does not occur in ``tokens``; else whether some occurrence is negated."""
    hits = [t for t in tokens if _key(t) == _key(head) or t.stem == head.stem]
    return None if not hits else any(t.negated for t in hits)


def _negation(claim: Analysis, evidence: Analysis, windows: list[list[Token]]) -> Verdict:
    """Each cue's head is negated on the other side too: the claim's in the evidence window aligned with the
    cue's clause (else anywhere in the evidence); the evidence's (in the clauses aligned with the claim)
    anywhere in the claim."""
    aligned = {t.clause for window in windows for t in window}
    claimed = {_key(t) for t in claim.tokens if t.content and not t.negated}
    for cue in (u for u in evidence.tokens if u.cue == "np"):
        # "Signs include ... no tears": the passage says "tears" only after "no"; a claim of tears is not
        # stated, whichever clause the claim aligns with
        head = scope_head(evidence, cue)
        if head is not None and _key(head) in claimed and \
                all(u.negated for u in evidence.tokens if _key(u) == _key(head)):
            return Verdict(False, f"negation dropped: the passage says '{cue.text} {head.text}'", ("not",))
    for side, other, added in ((claim, evidence, True), (evidence, claim, False)):
        for cue in (t for t in side.tokens if t.cue and (added or t.clause in aligned)):
            head = scope_head(side, cue)
            if head is None:  # "others do not.": the negated predicate is elided; the word before names it
                before = [t for t in side.clause(cue.clause) if t.position < cue.position and t.content]
                if before and not any(c.cue and any(u.stem == before[-1].stem for u in other.clause(c.clause))
                                      for c in other.tokens):
                    return Verdict(False, f"negation {'added' if added else 'dropped'}: "
                                          f"'{before[-1].text} ... {cue.text}'", (cue.text,))
                continue
            negated = None
            if added:
                negated = _negated_somewhere(head, _window(side.clause(cue.clause), other))
            if negated is None:
                negated = _negated_somewhere(head, other.tokens)
            if negated is False and head.negated:  # a doubly negated head ("not be stopped") is not negated
                if added:
                    return Verdict(False, f"negation added: the passage does not say '{cue.text} {head.text}'",
                                   (cue.text if cue.text != "not" else "not",))
                return Verdict(False, f"negation dropped: the passage says '{cue.text} {head.text}'", ("not",))
    return OK


def _with_relative(claim: Analysis, c: int, clause: list[Token], window: list[Token],
                   evidence: Analysis) -> tuple[list[Token], list[Token]]:
    """The clause with the relative clause that follows it, and its window: "15 times higher in people | who have
    B" compares with B, which the relative clause says."""
    after = claim.clause(c + 1) if c + 1 < claim.n_clauses else []
    if not after or after[0].text not in _RELATIVE:
        return clause, window
    window = _window(clause + after, evidence)
    follows = evidence.clause(window[-1].clause + 1) if window else []
    if follows and follows[0].text in _RELATIVE:
        window = window + follows  # the evidence's own relative clause says its side of the comparison too
    return clause + after, window


def compare(claim: Analysis, evidence: Analysis, *, strict: bool = False, free: Iterable[str] = (),
            reword: Callable[[Analysis, Analysis], Analysis] | None = None) -> Verdict:
    """Whether ``evidence`` states ``claim`` with the same polarity (see the module docstring).

    ``reword(claim, evidence)`` may return the claim with words the evidence says in other words replaced by
    the evidence's (:func:`medstation.llm.word_alignment.align`); every rule then reads the replaced claim."""
    missing = coverage(claim, evidence, free)
    reworded: set[int] = set()
    if missing and reword is not None:
        original, claim = claim, reword(claim, evidence)
        reworded = {t.position for t, u in zip(original.tokens, claim.tokens) if t.stem != u.stem}
        missing = coverage(claim, evidence, free)
    if missing:
        return Verdict(False, "not in the passage: " + ", ".join(dict.fromkeys(missing)), tuple(dict.fromkeys(missing)))
    clauses, windows = [], []
    for c in range(claim.n_clauses):
        clause = claim.clause(c)
        if clause and clause[0].text in _RELATIVE and c > 0 and len(claim.clause(c - 1)) <= 3:
            clause = claim.clause(c - 1) + clause  # "Adults | who are infected ...": the head noun is its subject
        if not any(t.content or t.number is not None or t.direction or t.quantifier or t.modal for t in clause):
            continue
        window = _window(clause, evidence)
        if reworded:  # a word said in other words must be said in the statement the clause aligns with
            vocab = {_key(u) for u in window} | evidence.topic | evidence.antecedent  # said of every sentence
            outside = [t.text for t in clause if t.position in reworded and _key(t) not in vocab]
            if outside:
                return Verdict(False, f"the passage's word for '{outside[0]}' is in another statement",
                               tuple(outside))
        clauses.append(clause)
        windows.append(window)
        for verdict in (_numbers(clause, window), _roles(clause, window),
                        _population_dropped(clause, window, evidence.tokens), _directions(clause, window, evidence),
                        _relations(*_with_relative(claim, c, clause, window, evidence)),
                        _client_side(clause, window) if strict else OK):
            if not verdict.ok:
                return verdict
    verdict = _hedges(clauses, windows, strict, evidence)
    if not verdict.ok:
        return verdict
    verdict = _causal(claim.tokens, evidence.tokens)
    if not verdict.ok:
        return verdict
    for clause, window in zip(clauses, windows):
        for i, t in enumerate(clause):
            verdict = _attached(clause, window, i, evidence) if t.direction else \
                _modal_attached(clause, window, i) if t.modal else OK
            if not verdict.ok:
                return verdict
    return _negation(claim, evidence, windows)
