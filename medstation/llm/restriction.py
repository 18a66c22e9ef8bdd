"""Limits a passage sentence puts on what it states, so that a claim dropping them is not called supported.

"People who take blood thinners should ask a doctor before using ibuprofen" does not say that *people* should;
"In children under 16, aspirin can cause Reye syndrome" does not say that aspirin can; "A second concussion
before the brain has healed can cause serious injury" does not say that any second concussion can. The support
check (:mod:`medstation.llm.support`) refuses a claim that a passage sentence states only under such a limit
when the claim keeps none of the limit's words ("the passage limits this to ...").

A limit is read from the words of one sentence, without a parser:

* a **leading frame** closed by a comma: "In/For/Among/During <group>, ...", "If/When/Unless/Until/Before/Once
  <condition>, ..." (not "After a hip replacement, ...", which names the passage's topic);
* a **modifier of the subject** (the words before the sentence's first auxiliary): "<people> who/that <verb ...>",
  "<people> with/without/on <condition>", "<people> taking <medicine>", "<children> under/over/aged <age>", "<people> younger/older than <age>";
* a **condition** inside the sentence: "if/unless <...>", and "when/until/before/once <...>" not after a comma
  (", when estrogen levels drop" explains, it does not limit).

A claim keeps a limit when it has any of the limit's words (content stems, people, numbers): a faithful subset
that names one of several groups ("people with kidney disease") keeps it. What the claim leaves out elsewhere
(other list items, an unrelated clause) is not a limit on what it states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medstation.llm.abbreviations import spelled_in
from medstation.llm.durations import equivalents
from medstation.llm.polarity import Analysis, analyse, stem
from medstation.llm.polarity_words import AND_OPENS_CLAUSE, ROLES

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*|[,;:.!?()]")
_AUXILIARIES = frozenset("""is are was were can could may might must should will would has have had does do did
need needs shall""".split())
_FRAME_OPENERS = frozenset("in for among during if when whenever unless until before once".split())
_CONDITIONS = frozenset("if unless when whenever until before once".split())
#: Frames that join a sentence to the one before and limit nothing: "For example, X may ..." states X.
_CONNECTIVES = frozenset(tuple(c.split()) for c in """for example|for instance|in addition|in fact|in particular|in
contrast|in summary|in short|in turn|in other words|for this reason""".replace("\n", " ").split("|"))
_ALWAYS_LIMITS = frozenset({"if", "unless"})  # also after a comma: "Do not drive, unless ..."
_SUBJECT_MODIFIERS = frozenset("who that with without under over aged younger older on".split())
_ADVERBS = frozenset("not never also already ever often usually recently just still".split())
_MODALS = frozenset("can could may might must should will would shall".split())
#: Who an age bound limits: people roles and person words ("children under 16", "people over 65").
_PEOPLE = frozenset(ROLES.values()) | frozenset({"person", "those"})
_MAX_SUBJECT = 12
_GENERIC_PEOPLE = frozenset("people person patients patient those anyone others individuals".split())
_DEFINITE = frozenset("the this that these those your their its".split())
#: Verbs that say little on their own ("who take blood thinners": the limit is the blood thinners).
_LIGHT_VERBS = frozenset(stem(w) for w in "take have get use make do give".split())
_MAX_CONDITION = 8


@dataclass(frozen=True)
class Limit:
    """``phrase``: the limiting words as the passage says them; ``keys``: what a claim keeps them by (content
    stems, people roles, numbers); ``segments``/``segment``: the sentence's parts and the one the limit bears on."""

    phrase: str
    keys: frozenset[str]
    segments: tuple[frozenset[str], ...] = ()  # the words of each part of the sentence, the limit's keys left out
    segment: int = 0                           # the part it limits


def _keys(words: list[str]) -> frozenset[str]:
    """Content stems, roles and numbers of ``words`` (function words and hedges say no limit on their own)."""
    tokens = analyse(" ".join(words)).tokens
    keys = {t.role or t.stem for t in tokens if t.content} | {f"{t.number:g}" for t in tokens if t.number is not None}
    keys |= {t.stem for t in tokens if t.direction and t.direction[0] == "age"}  # "young people"
    for vague in (_LIGHT_VERBS, {"person"}):  # "In people with kidney disease,": the disease is the limit
        keys = keys - vague if keys - vague else keys
    return frozenset(keys)


def _until_stop(words: list[str], start: int, limit: int, stop_at_aux: bool,
                stops: frozenset[str] = _AUXILIARIES) -> list[str]:
    """Words from ``start`` up to punctuation, ``limit`` words, or (``stop_at_aux``) an auxiliary that comes after a
    content-looking word ("who are infected at birth | are more likely")."""
    out: list[str] = []
    for word in words[start:start + limit]:
        low = word.lower()
        if word in ",;:.!?()":
            break
        if stop_at_aux and low in stops and any(w.lower() not in _AUXILIARIES for w in out[1:]) and \
                out[-1].lower() not in _ADVERBS:  # "who have never | had measles | can ..."
            break
        out.append(word)
    return out


def _segments(lower: list[str]) -> list[int]:
    """For each word index, the number of its segment: the sentence cut at commas, semicolons, colons and at
    "and"/"but"/"so" before a word that opens a clause ("... throughout the body | and mainly affects children")."""
    seg, out = 0, []
    for i, word in enumerate(lower):
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if word in ",;:" or (word in ("and", "but", "so", "while") and (nxt in AND_OPENS_CLAUSE or nxt.endswith("ly"))):
            seg += 1
        out.append(seg)
    return out


def _other_conjuncts(words: list[str], lower: list[str], i: int, start: int) -> frozenset[str]:
    """Words of the nouns coordinated before a generic one that a limit follows: in "Older adults and people with lung
    disease" the limit is on "people" only, so a claim naming an earlier noun ("older adults") keeps to what the
    passage says of it. After a noun of its own ("men and women with ...") a limit is on every noun."""
    if lower[i - 1] not in _GENERIC_PEOPLE:
        return frozenset()  # "Men and women with kidney disease": the limit is on both
    span: list[int] = []
    for j in range(i - 1, max(start, i - 7) - 1, -1):
        if words[j] in ",;:.!?()" or lower[j] in _AUXILIARIES:
            break
        span.insert(0, j)
    joins = [j for j in span if lower[j] in ("and", "or")]
    return _keys([words[j] for j in span if j < joins[-1]]) if joins else frozenset()


@lru_cache(maxsize=4096)
def limits(sentence: str) -> tuple[Limit, ...]:
    """The limits ``sentence`` puts on what it states (see the module docstring); empty when it puts none."""
    words = _WORD.findall(sentence)
    lower = [w.lower() for w in words]
    segment_of = _segments(lower)
    n_segments = (segment_of[-1] + 1) if segment_of else 1
    stems = [_keys([w for w, s in zip(words, segment_of) if s == k]) for k in range(n_segments)]
    found: list[Limit] = []

    def add(phrase_words: list[str], at: int, keys: frozenset[str] | None = None) -> None:
        keys = _keys(phrase_words[1:]) if keys is None else keys
        if keys:
            found.append(Limit(" ".join(phrase_words), keys, tuple(k - keys for k in stems), segment_of[at]))

    start = 0
    if lower and lower[0] in _FRAME_OPENERS and "," in lower[1:16] and tuple(lower[:lower.index(",")]) in _CONNECTIVES:
        start = lower.index(",") + 1  # "For example, ...": what follows is stated, not limited
    elif lower and lower[0] in _FRAME_OPENERS and "," in lower[1:16]:
        comma = lower.index(",")
        if lower[0] not in _CONDITIONS:  # "In children, teenagers and young adults under 25, ...": the last comma
            first_aux = next((i for i, w in enumerate(lower) if w in _AUXILIARIES), len(lower))
            comma = max(i for i in range(comma, min(first_aux, 16)) if lower[i] == ",") if comma < first_aux else comma
        start = comma + 1
        segment_of[:start] = [segment_of[min(start, len(lower) - 1)]] * start  # the frame limits what follows it
        add(words[:comma], 0)
    # the subject: the words before the first auxiliary of the main clause
    aux = next((i for i in range(start, min(len(lower), start + _MAX_SUBJECT)) if lower[i] in _AUXILIARIES
                and i > start), None)
    if aux is not None:
        for i in range(start + 1, aux):
            if words[i] in ",;:(":
                break  # "Pulmonary rehabilitation, which combines ...": an aside, not a limit
            comparative = lower[i] in ("younger", "older")
            participle = lower[i].endswith("ing") and len(lower[i]) > 4  # "People taking warfarin should ..."
            if (lower[i] in _SUBJECT_MODIFIERS or participle) and not (comparative and lower[i + 1:i + 2] != ["than"]):
                phrase = _until_stop(words, i, _MAX_CONDITION + 1, True) if lower[i] in ("who", "that") else \
                    _until_stop(words, i, aux - i, False)
                add(phrase, start, _keys(phrase[1:]) | _other_conjuncts(words, lower, i, start))
                break
    for i in range(start, len(lower)):
        if lower[i] in _CONDITIONS and (lower[i] in _ALWAYS_LIMITS or i == 0 or lower[i - 1] != ","):
            # a condition that opens its segment (", if ...") limits the segment before it
            at = i - 2 if i >= 2 and lower[i - 1] == "," else i
            add(_until_stop(words, i, _MAX_CONDITION + 1, True, _MODALS), at)
    for i in range(start + 1, len(lower) - 1):  # "children or teenagers under 16", "adults aged 65 or over"
        bound = lower[i] in ("under", "over", "aged") or (lower[i] in ("younger", "older") and lower[i + 1] == "than")
        number = i + 1 + (lower[i] in ("younger", "older"))
        if bound and number < len(lower) and lower[number][:1].isdigit() and _keys(words[i - 3:i]) & _PEOPLE:
            value = float(lower[number].replace(",", ""))
            add(words[i:number + 1], i, frozenset({f"{value:g}"}))  # "children or teenagers under 16": both
    return tuple(dict.fromkeys(found))


def _anaphoric(limit: Limit) -> bool:
    """"with the condition", "who have this infection": the limit names what the passage is about, in other words."""
    words = limit.phrase.lower().split()
    return len(words) <= 4 and len(limit.keys) == 1 and any(w in _DEFINITE for w in words[1:3])


def dropped_limit(claim: Analysis, sentence: str, topic: frozenset[str] = frozenset()) -> Limit | None:
    """The first limit of passage ``sentence`` on the part the claim takes most words from (its segment shares at
    least as many of the claim's words as any other) that the claim keeps none of the words of, else None. A limit
    that names the passage's ``topic`` in other words ("people with the condition") is kept by a topic word."""
    said = {t.role or t.stem for t in claim.tokens if t.content} | {t.stem for t in claim.tokens}
    said |= {f"{t.number:g}" for t in claim.tokens if t.number is not None}
    said |= {n for t in claim.tokens if t.number is not None for n in equivalents(t.number, t.unit)}  # 1 year: 12
    for limit in limits(sentence):
        shared = [len(said & seg) for seg in limit.segments]
        kept = limit.keys & said or (_anaphoric(limit) and topic & said) or \
            any(spelled_in(claim.tokens, k) for k in limit.keys)  # "with CLM": "with cutaneous larva migrans"
        if not kept and shared[limit.segment] and shared[limit.segment] == max(shared):
            return limit
    return None
