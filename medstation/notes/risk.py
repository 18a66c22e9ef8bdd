"""Deterministic risk detection in a transcript, independent of the model.

Categories: suicidal ideation, homicidal ideation, self-harm, abuse, overdose
and access to lethal means. Each match is classified:

* ``present`` — said without negation ("I want to kill myself", "I no longer
  want to live", "I'm not sure I'm not suicidal" counts as present);
* ``denied`` — negated in its clause ("denies suicidal ideation", "I would
  never hurt myself", "suicidal thoughts: none"), or a clinician's question
  answered "no" by the client: a *documented denial*, not a risk;
* ``unclear`` — a clinician asked and the answer was neither yes nor no:
  treated as a risk, because missing one costs more than a question too many.

Negation looks back at most six words within the clause (commas, "but" and
"though" end a clause) and skips pseudo-negations ("can't stop", "no longer",
"not sure"). Recall matters more than precision here: anything that might be a
risk becomes a :class:`RiskFlag` that a clinician must acknowledge before signing.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from medstation.notes.transcript import SpeakerRole, Transcript


class RiskStatus(str, enum.Enum):
    present = "present"
    denied = "denied"
    unclear = "unclear"


CATEGORY_LABELS = {
    "suicidal_ideation": "suicidal ideation",
    "homicidal_ideation": "homicidal ideation",
    "self_harm": "self-harm",
    "abuse": "abuse",
    "overdose": "overdose",
    "lethal_means": "access to lethal means",
}

_SELF = r"(?:my ?self|yourself|themselves|himself|herself)"
_PATTERNS: dict[str, list[str]] = {
    "suicidal_ideation": [
        r"suicid\w*", r"kill(?:ing|ed)? (?:my ?self|me|yourself)", r"end(?:ing)? (?:my|your|his|her) (?:own )?life",
        r"end(?:ing)? it all", r"take (?:my|your|his|her) (?:own )?life",
        r"(?:want|wanted|wanting|wish|wished|wishing)(?: that)? (?:to|i was|i were|i could) (?:die|be dead|not be here|"
        r"not exist|disappear|go to sleep and not wake up)",
        r"better off (?:dead|without me)", r"(?:don't|do not|no longer|not|never) (?:want|wanting) to (?:live|be alive|"
        r"be here anymore|wake up)",
        r"no (?:reason|point) (?:to|in) (?:live|living|going on|being alive)", r"thoughts? (?:of|about) (?:dying|death|"
        r"ending (?:it|my life)|not being here)", r"life (?:isn't|is not|wasn't) worth living", r"hang(?:ing)? myself",
        # Indirect statements of intent, plan or preparation (no suicide word at all). Patterns that
        # contain their own negation start with it, so the negation look-back cannot read them as a denial.
        r"(?:don't|do not|can't|cannot|no longer) see (?:the |any )?point (?:of|in) (?:living|life|going on|being alive)",
        r"jump(?:ing)? (?:off|from) (?:a|the|that) (?:bridge|roof|building|cliff|balcony|overpass)",
        r"(?:bought|got|buy|get|have|found) (?:a |some )?(?:rope|noose)", r"noose",
        r"(?:tested|test|checked|tie|tied) (?:the|a) (?:beam|noose|rope)", r"(?:wrote|written|writing) (?:a )?suicide note",
        r"(?:giving|gave) away (?:my|all my) (?:things|stuff|belongings)",
    ],
    "homicidal_ideation": [
        r"homicid\w*", r"(?:kill|murder|shoot|stab|strangle)(?:ing)? (?:him|her|them|someone|somebody|people|"
        r"anyone|everyone|my (?:\w+ )?(?:wife|husband|boss|partner|father|mother|dad|mom|neighbou?r|brother|sister|son|"
        r"daughter|ex|coworker|co-worker|teacher))",
        r"(?:hurt|harm)(?:ing)? (?:others|other people|someone|somebody|anyone|him|her|them)",
        r"(?:hurt|harm|kill)(?:ing)? (?:the|my|our) (?:kids|children|baby|child|neighbou?rs?|wife|husband|partner|"
        r"son|daughter|boss|family)",
        r"voices? (?:telling|tell|told|tells) me to (?:hurt|kill|harm|attack)",
        r"thoughts? (?:of|about) (?:hurting|harming|killing) (?:others|someone|people|anyone|him|her|them)",
    ],
    "self_harm": [
        r"self[- ]?harm\w*", r"self[- ]?injur\w*", r"(?:cut|cutting|burn|burning|hurt|hurting|harm|harming|hit|"
        r"hitting|scratch\w*|punish\w*|starv\w*)(?: on)? " + _SELF, r"cutting (?:again|my (?:arms?|legs?|wrists?))",
        r"cut (?:my|her|his) (?:arms?|legs?|wrists?)",
        r"(?:stopped|stop|quit) eating",  # restriction with weight loss or fainting is a medical risk
    ],
    "abuse": [
        r"abus\w*", r"(?:hits|hit|beats|beat|punch\w*|chok\w*|slap\w*|kick\w*|push\w*|shov\w*|grab\w*) me\b",
        r"domestic violence", r"sexual(?:ly)? (?:assault\w*|abus\w*|touch\w*)", r"rap(?:e|ed|ing)\b", r"molest\w*",
        r"touch(?:ed|es|ing)? me (?:inappropriately|without|down there)", r"(?:afraid|scared) to go home",
        r"neglect\w*", r"threaten(?:s|ed|ing)? (?:to (?:hurt|kill) )?me",
        # Child endangerment: driving children while intoxicated.
        r"(?:drunk|drinking|intoxicated|high on \w+)\b[^.]{0,60}\bdriv\w* (?:my |the |our )?(?:kids|children|son|daughter|baby)",
    ],
    "overdose": [
        r"overdos\w*", r"\bod(?:'d|ed)\b", r"took (?:a (?:bunch|lot|handful) of|too many|all (?:of )?(?:my|the)) "
        r"(?:pills|tablets|meds|medications?)", r"(?:whole|entire) bottle of",
    ],
    "lethal_means": [r"\b(?:guns?|firearms?|rifles?|pistols?|handguns?|shotguns?)\b", r"stockpil\w+ (?:pills|meds)"],
}
_COMPILED = {cat: [re.compile(rf"\b{p}", re.IGNORECASE) for p in pats] for cat, pats in _PATTERNS.items()}

_NEGATION = re.compile(r"\b(?:no|not|never|den(?:y|ies|ied|ying)|without|none|nor|negative for|free of|absence of|"
                       r"ruled? out|hasn't|haven't|hadn't|don't|doesn't|didn't|isn't|wasn't|won't|wouldn't|aren't|"
                       r"can't|cannot|n't)\b", re.IGNORECASE)
_PSEUDO = re.compile(r"\b(?:can't|cannot|couldn't|can not|won't|not able to|unable to) stop\b|\bno longer\b|"
                     r"\bnot (?:sure|only|just)\b|\bnever (?:felt|been) (?:so|this)\b|\bdon't know\b", re.IGNORECASE)
_UNCERTAIN = re.compile(r"\b(?:not sure|unsure|don't know|do not know|maybe|might|i guess|can't say)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:.!?]|\b(?:but|though|although|however|except|yet)\b", re.IGNORECASE)
_AFTER_DENIAL = re.compile(r"^\W*(?:(?:ideation|thoughts?|ideas?|intent|plans?|behaviou?rs?)\W*)*(?:(?:is|are|was|were)\s+)?(?:denied|none|negative|absent|no)\b", re.IGNORECASE)
_ANSWER_NO = re.compile(r"^\W*(?:no|nope|nah|never|not (?:really|at all|anymore)|absolutely not|of course not|"
                        r"i (?:do not|don't|haven't|have not|wouldn't|would never|never))\b", re.IGNORECASE)
_ANSWER_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sometimes|a (?:little|bit)|i have|i do|maybe|kind of|sort of|"
                         r"occasionally|once|lately|i guess|honestly|actually|i did|i've thought|i think about)\b",
                         re.IGNORECASE)
_LOOKBACK_WORDS = 6


@dataclass(frozen=True)
class RiskFinding:
    """One mention: ``line`` is the transcript line number; ``start``/``end`` characters in that line's text."""

    category: str
    status: RiskStatus
    line: int
    phrase: str
    start: int
    end: int
    answer_line: int | None = None  # the client's answer line when a clinician's question was answered


@dataclass(frozen=True)
class RiskFlag:
    """A category to acknowledge before signing (``status`` present or unclear), or a documented denial."""

    category: str
    status: RiskStatus
    lines: tuple[int, ...]
    phrases: tuple[str, ...]

    @property
    def label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category.replace("_", " "))

    @property
    def needs_acknowledgement(self) -> bool:
        return self.status is not RiskStatus.denied


def _negated(text: str, start: int, end: int) -> bool:
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    window = " ".join(clause.split()[-_LOOKBACK_WORDS:])
    if _UNCERTAIN.search(window):
        return False  # "not sure I'm not suicidal" is no denial
    window = _PSEUDO.sub(" ", window)
    if _NEGATION.search(window):
        return True
    return bool(_AFTER_DENIAL.match(text[end:end + 30]))


def _answer_status(transcript: Transcript, line_number: int) -> tuple[RiskStatus, int | None]:
    """A clinician's risk question: the client's reply on the next client line decides."""
    for nxt in transcript.lines[line_number:line_number + 2]:
        if nxt.role is SpeakerRole.client or nxt.role is SpeakerRole.other:
            if _ANSWER_NO.match(nxt.text):
                return RiskStatus.denied, nxt.number
            if _ANSWER_YES.match(nxt.text):
                return RiskStatus.present, nxt.number
            return RiskStatus.unclear, nxt.number
    return RiskStatus.unclear, None


def detect_risks(transcript: Transcript) -> list[RiskFinding]:
    """Every risk mention in ``transcript``, in line order (overlapping matches of one category merged)."""
    findings: list[RiskFinding] = []
    for line in transcript.lines:
        text = line.text
        for category, patterns in _COMPILED.items():
            spans = sorted({m.span() for p in patterns for m in p.finditer(text)})
            last_end = -1
            for start, end in spans:
                if start < last_end:
                    continue
                last_end = end
                answer = None
                sentence_end = next((m.start() for m in re.finditer(r"[.!?]", text) if m.start() >= end), len(text))
                asked = line.role is SpeakerRole.clinician and text[sentence_end:sentence_end + 1] == "?"
                if asked:
                    status, answer = _answer_status(transcript, line.number)
                else:
                    status = RiskStatus.denied if _negated(text, start, end) else RiskStatus.present
                findings.append(RiskFinding(category, status, line.number, text[start:end], start, end, answer))
    return findings


def risk_flags(findings: list[RiskFinding]) -> list[RiskFlag]:
    """One flag per category: present/unclear when any mention is, else a documented denial."""
    flags = []
    for category in CATEGORY_LABELS:
        mine = [f for f in findings if f.category == category]
        if not mine:
            continue
        risky = [f for f in mine if f.status is not RiskStatus.denied]
        chosen = risky or mine
        status = (RiskStatus.present if any(f.status is RiskStatus.present for f in risky) else RiskStatus.unclear) \
            if risky else RiskStatus.denied
        lines = sorted({f.line for f in chosen} | {f.answer_line for f in chosen if f.answer_line})
        flags.append(RiskFlag(category, status, tuple(lines), tuple(dict.fromkeys(f.phrase for f in chosen))))
    return flags
