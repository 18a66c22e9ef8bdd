"""Who does what to whom: people (roles) and relation words keep their sides between claim and evidence.

Used by :func:`medstation.llm.meaning.compare`: "my brother hit me" never supports "I hit my brother",
"X converts into Y" never supports "Y converts into X", and each number stays with its people.
"""

from __future__ import annotations

from medstation.llm.meaning_verdict import OK, Verdict, key as _key
from medstation.llm.polarity import Token, stem

#: Relation words whose two sides must not be swapped ("X converts into Y", "X controls Y", "more in X than Y",
#: "X instead of Y").
ANCHORS = frozenset({"than", "into", "from", "versus", "vs", "instead"} | {stem(w) for w in """cause convert pass
transmit spread
affect attack compare inherit control regulate treat infect damage produce carry bind inhibit activate replace
destroy kill hit hurt blame bully push threaten protect trigger prevent increase raise boost reduce lower decrease
make change alter""".split()})
_REDUCED_PASSIVE_NEXT = frozenset({"with", "at", "in", "by", "from", "during", "after", "before"})
_BE = frozenset({"is", "are", "was", "were", "be", "been", "being", "get", "got"})


def _passive_order(tokens: list[Token]) -> list[Token]:
    """Tokens in active order: "I was pushed by my boyfriend" -> "my boyfriend | pushed | I" (agent, verb, subject)."""
    for i, t in enumerate(tokens):
        if t.text == "by" and 0 < i and (tokens[i - 1].text.endswith(("ed", "en")) or
                                         (i > 1 and tokens[i - 2].text in _BE)):
            be = max((j for j in range(i) if tokens[j].text in _BE), default=-1)
            if be < 0:
                return tokens[i + 1:] + tokens[:i]
            return tokens[i + 1:] + tokens[be + 1:i] + tokens[:be]
    return tokens


def _client_side(clause: list[Token], window: list[Token]) -> Verdict:
    """Who did it (strict mode, the client's own words): the client stays on the same side of the first verb-like
    word both texts share ("my brother hit me" is never "she hit her brother")."""
    active_c, active_w = _passive_order(clause), _passive_order(window)
    if not any(t.role == "client" for t in active_c) or not any(t.role == "client" for t in active_w):
        return OK
    shared = {_key(t) for t in active_w if t.content and not t.role}
    verb = next((t for t in active_c if t.content and not t.role and _key(t) in shared), None)
    if verb is None:
        return OK

    def before(tokens: list[Token]) -> bool:
        first_client = next(i for i, t in enumerate(tokens) if t.role == "client")
        first_verb = next(i for i, t in enumerate(tokens) if _key(t) == _key(verb))
        return first_client < first_verb

    if before(active_c) != before(active_w):
        return Verdict(False, f"roles are swapped: who did '{verb.text}' differs", (verb.text,))
    return OK


def _roles(clause: list[Token], window: list[Token]) -> Verdict:
    claim_roles = [t.role for t in _passive_order(clause) if t.role]
    window_roles = [t.role for t in _passive_order(window) if t.role]
    missing = [r for r in claim_roles if r not in window_roles]
    if missing:
        return Verdict(False, f"the passage says this of other people (no {missing[0]} here)", tuple(missing))
    order = [r for r in dict.fromkeys(window_roles) if r in claim_roles]
    claimed = [r for r in dict.fromkeys(claim_roles) if r in order]
    if claimed != order:
        return Verdict(False, f"roles are swapped: the passage has {' ... '.join(order)}", tuple(claimed))
    if len(set(claim_roles)) >= 2 and any(t.number is not None for t in clause):
        # "children ... 60 minutes, adults ... 150 minutes": each number stays with its people
        def sequence(tokens: list[Token]) -> list[str]:
            return list(dict.fromkeys(t.role or f"{t.number:g}" for t in tokens if t.role or t.number is not None))
        claimed_seq = sequence(clause)
        said_seq = [x for x in sequence(window) if x in claimed_seq]
        if [x for x in claimed_seq if x in said_seq] != said_seq:
            return Verdict(False, "numbers and people are paired differently in the passage", tuple(claimed_seq))
    return OK


#: Groups a passage may contrast ("adults may ..., but children should not"): the roles that scope a statement.
POPULATIONS = frozenset({"child", "adult", "male", "female"})


def _population_dropped(clause: list[Token], window: list[Token], evidence: list[Token]) -> Verdict:
    """A statement the passage makes of one group while it says something else of another ("Adults with a fever
    may take aspirin, but children should not") is not said of everyone: a claim clause that names no group at
    all is unsupported. A passage naming one group only (in passing, "before you feed the baby") is not a
    contrast, and a clause that keeps its group is checked by :func:`_roles`."""
    if any(t.role for t in clause):
        return OK
    said = [t for t in window if t.role in POPULATIONS]
    if not said:
        return OK
    others = [t for t in evidence if t.role in POPULATIONS and t.role not in {u.role for u in said}]
    if not others:
        return OK
    return Verdict(False, f"the passage says this of '{said[0].text}' only (and something else of "
                          f"'{others[0].text}')", (said[0].text,))


def _is_passive(tokens: list[Token], i: int) -> bool:
    t = tokens[i]
    nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
    participle = t.text.endswith(("ed", "en")) and i > 0
    # "infants infected at birth": a participle after its noun, before a preposition, is a reduced passive
    return nxt == "by" or (participle and tokens[i - 1].text in _BE) or \
        (participle and (tokens[i - 1].content or tokens[i - 1].role) and nxt in _REDUCED_PASSIVE_NEXT)


def _relations(clause: list[Token], window: list[Token]) -> Verdict:
    """A relation word with the same stem on both sides must not have its two sides swapped (in every place
    the evidence uses it: one consistent use is enough)."""
    for i, t in enumerate(clause):
        # "The risk of A is 15 times higher in people with B": a ratio compares two sides, like "than"
        if t.stem not in ANCHORS and not (t.text == "times" and i and clause[i - 1].number is not None) or \
                _attributive(clause, i):
            continue
        verdicts = [_relation_pair(clause, i, window, j) for j, u in enumerate(window)
                    if u.stem == t.stem and not _attributive(window, j)]
        if verdicts and all(not v.ok for v in verdicts):
            return verdicts[0]
    return OK


_DETERMINERS = frozenset("a an the of in from with by among for to".split())


def _attributive(tokens: list[Token], i: int) -> bool:
    """A participle used as an adjective before its noun ("1 in 5 infected people", "the affected joints"): it names
    the people, it does not relate two sides ("Mosquitoes infected people" does)."""
    t = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    before = tokens[i - 1] if i > 0 else None
    return t.text.endswith("ed") and nxt is not None and (nxt.content or bool(nxt.role)) and \
        (before is None or before.clause != t.clause or before.number is not None or before.text in _DETERMINERS)


def _side(tokens: list[Token]) -> set[str]:
    """What one side of a relation names: content words, and the people qualifiers that are not content
    ("younger people ... than people over 65": young; over, 65)."""
    return {_key(x) if x.content else f"#{x.number:g}" if x.number is not None else f"{x.direction[0]}:{x.direction[1]}"
            for x in tokens if x.content or x.number is not None or x.direction}


def _relation_pair(clause: list[Token], i: int, window: list[Token], j: int) -> Verdict:
    left_c, right_c = _side(clause[:i]), _side(clause[i + 1:])
    left_w, right_w = _side(window[:j]), _side(window[j + 1:])
    if _is_passive(clause, i):
        left_c, right_c = right_c, left_c
    if _is_passive(window, j):
        left_w, right_w = right_w, left_w
    if (left_c & right_w) - left_w and (right_c & left_w) - right_w:
        return Verdict(False, f"the two sides of '{clause[i].text}' are swapped", (clause[i].text,))
    if _heads_crossed(clause, i, window, j):
        return Verdict(False, f"the two sides of '{clause[i].text}' are swapped", (clause[i].text,))
    subject_w = _side([u for u in window[:j] if u.clause == window[j].clause])  # its own clause only
    if not _is_passive(window, j) and _pronoun_object(window, j) and (right_c & subject_w) and left_c and \
            not left_c & subject_w:
        # "Ibuprofen can also raise it" never supports "Lithium can raise ibuprofen": the claim puts the
        # evidence's subject on the other side, and its own subject is not the evidence's
        return Verdict(False, f"the two sides of '{clause[i].text}' are swapped", (clause[i].text,))
    return OK


_ARTICLES = frozenset({"a", "an", "the"})


def _heads_crossed(clause: list[Token], i: int, window: list[Token], j: int) -> bool:
    """The first word of each side (any word: "Using X ... than combining ...") is said only on the other side of
    the evidence's relation: a swap that light verbs, which are no content words, would hide."""
    def head(tokens: list[Token]) -> str:
        return next((u.stem for u in tokens if u.text not in _ARTICLES), "")

    if _is_passive(clause, i) or _is_passive(window, j):
        return False
    own = [u for u in clause[:i] if u.clause == clause[i].clause]
    left_h, right_h = head(own), head(clause[i + 1:])
    left_w, right_w = {u.stem for u in window[:j]}, {u.stem for u in window[j + 1:]}
    return bool(left_h and right_h) and left_h != right_h and left_h in right_w - left_w and \
        right_h in left_w - right_w


_OBJECT_PRONOUNS = frozenset({"it", "them", "this", "these", "those"})


def _pronoun_object(window: list[Token], j: int) -> bool:
    """The relation's object in the evidence is a pronoun only: no content word after it in its clause."""
    after = [u for u in window[j + 1:] if u.clause == window[j].clause]
    return bool(after) and after[0].text in _OBJECT_PRONOUNS and not any(u.content for u in after)


def _causal(claim: list[Token], evidence: list[Token]) -> Verdict:
    """"A because B" is never supported by "B because A": where both texts say "because", what the claim gives as
    the cause is not what the evidence gives as the effect, and the other way round."""
    def sides(tokens: list[Token]) -> tuple[set[str], set[str]] | None:
        at = next((i for i, t in enumerate(tokens) if t.text == "because"), None)
        return None if at is None else (_side(tokens[:at]), _side(tokens[at + 1:]))

    said, stated = sides(claim), sides(evidence)
    if said is None or stated is None:
        return OK
    (effect_c, cause_c), (effect_w, cause_w) = said, stated
    if (effect_c & cause_w) - effect_w and (cause_c & effect_w) - cause_w:
        return Verdict(False, "cause and effect are swapped: the passage says it the other way round", ("because",))
    return OK
