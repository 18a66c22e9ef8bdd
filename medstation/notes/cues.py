"""Lexical cues that say which note section a transcript sentence belongs to.

Each cue group is a list of (regex, weight). Weights are rough log-odds read
off development transcripts (aci-bench train, written therapy examples): a
clinician saying "on exam" is strong evidence for Objective; "feel" is weak
evidence for Subjective. Role priors (:data:`ROLE_PRIOR`) add that clients
mostly give history and clinicians mostly examine, assess and plan.
"""

from __future__ import annotations

import re

from medstation.notes.transcript import SpeakerRole


def _compile(pairs: list[tuple[str, float]]) -> list[tuple[re.Pattern, float]]:
    return [(re.compile(rf"\b(?:{pattern})", re.IGNORECASE), weight) for pattern, weight in pairs]


CUES: dict[str, list[tuple[re.Pattern, float]]] = {
    "history": _compile([
        (r"feel(?:s|ing)?|felt", 1.0), (r"pain|ache|hurts?|sore", 1.2), (r"since|for (?:about )?(?:a|\w+) (?:days?|weeks?|months?|years?)", 1.0),
        (r"started|began|noticed|been having|been feeling", 1.2), (r"history of|year[- ]old|presents?|here for|follow[- ]up of", 1.5),
        (r"symptoms?|swelling|tired|fatigue|dizz\w+|nause\w+|fever|cough|short(?:ness)? of breath|numb\w*|tingl\w+", 1.0),
        (r"sleep\w*|mood|anxi\w+|depress\w+|stress\w*|worr\w+|panic|sad|angry|irritab\w+|lonely|overwhelm\w+", 1.2),
        (r"work|job|wife|husband|partner|kids?|family|mother|father|mom|dad|school|relationship", 0.5),
        (r"diet|eating|drink\w*|smok\w+|alcohol|exercis\w+|weight", 0.6),
        (r"taking|medications?|meds", 0.4), (r"worse|better|episodes?|times a (?:day|week)", 0.6),
        (r"denies|reports|states|complain\w*", 1.0),
    ]),
    "exam": _compile([
        (r"on (?:physical )?exam\w*|physical exam\w*|examination|examine\w*|on auscultation|palpat\w+", 3.0),
        (r"blood pressure|heart rate|pulse|temperature|vitals?|oxygen|saturation|respiratory rate|bmi", 2.0),
        (r"murmur|edema|rales|crackles|wheez\w+|tender\w*|range of motion|reflexes|strength|lungs? (?:are|sound)", 2.0),
        (r"x-?ray|mri|ct scan|cat scan|ultrasound|echo\w*|ekg|ecg|labs?|blood work|a1c|results?|imaging|biopsy", 1.8),
        (r"ejection fraction|hemoglobin|cholesterol|glucose|creatinine|within normal limits|unremarkable", 1.8),
        (r"appears?|affect|oriented|eye contact|speech|thought process|appearance|groomed|alert|tearful|fidget\w*", 1.3),
        (r"i (?:see|notice|hear|feel) (?:some|a|that)|looks? (?:good|fine|normal)|normal|negative|positive", 0.7),
    ]),
    "assessment": _compile([
        (r"assessment|impression|diagnos\w+|differential", 3.0),
        (r"consistent with|likely|suspect|i think (?:this|that|it|you)|probably|sounds like|seems like", 1.6),
        (r"disorder|syndrome|disease|infection|strain|sprain|fracture|hypertension|diabetes|depression|anxiety|ptsd", 1.0),
        (r"progress\w*|improv\w+|worsen\w*|stable|controlled|uncontrolled|well[- ]controlled", 1.3),
    ]),
    "plan": _compile([
        (r"plan|we(?:'ll| will) |i(?:'m| am) going to|let's|we(?:'re| are) going to|i want (?:you|to)|i would like", 2.0),
        (r"recommend\w*|prescrib\w+|order\w*|refer\w*|schedul\w+|follow[- ]?up|come back|see you (?:in|next)|next (?:session|visit|week|time)", 2.2),
        (r"continue|start(?: you)? on|increase|decrease|adjust|stop taking|switch|taper|dose|\d+ ?(?:mg|milligrams?|mcg|units?)", 1.8),
        (r"homework|practice|try to|keep (?:a|track)|journal|log|diary|appointment|portal|call (?:me|us)", 1.4),
        (r"physical therapy|therapy|counsel\w*|support group|surgery|injection|brace|ice|rest", 0.8),
    ]),
    "intervention": _compile([
        (r"let's try|we (?:practiced|talked about|discussed|explored|worked on)|i want to (?:try|teach|show)", 2.4),
        (r"cbt|cognitive|reframe|reframing|breathing|mindful\w*|grounding|relaxation|exposure|role[- ]play|validat\w+", 2.2),
        (r"what (?:if|would happen)|how (?:did|does) that (?:make|feel)|notice|thought record|psychoeducation|skills?", 1.4),
    ]),
    "response": _compile([
        (r"that (?:helps|helped|makes sense)|i (?:can|could|will|'ll) try|i think so|feel(?:s)? (?:better|calmer|lighter)", 2.4),
        (r"agree\w*|willing|open to|okay with|sounds good|i like that|hard for me|not sure (?:that|it)", 1.5),
    ]),
}

#: How much a speaker role favours each cue group (added once per sentence).
ROLE_PRIOR: dict[str, dict[SpeakerRole, float]] = {
    "history": {SpeakerRole.client: 1.0, SpeakerRole.clinician: 0.0, SpeakerRole.other: 0.2},
    "exam": {SpeakerRole.client: -1.5, SpeakerRole.clinician: 0.8, SpeakerRole.other: 0.0},
    "assessment": {SpeakerRole.client: -1.5, SpeakerRole.clinician: 0.8, SpeakerRole.other: 0.0},
    "plan": {SpeakerRole.client: -1.0, SpeakerRole.clinician: 0.8, SpeakerRole.other: 0.0},
    "intervention": {SpeakerRole.client: -2.0, SpeakerRole.clinician: 1.0, SpeakerRole.other: 0.0},
    "response": {SpeakerRole.client: 1.0, SpeakerRole.clinician: -2.0, SpeakerRole.other: 0.0},
}


def cue_score(group: str, text: str, role: SpeakerRole) -> float:
    """Sum of the weights of ``group``'s cues found in ``text`` (each cue once), plus the role prior."""
    score = sum(weight for pattern, weight in CUES[group] if pattern.search(text))
    return score + ROLE_PRIOR[group][role] if score > 0 else 0.0


def keyword_score(keywords: tuple[str, ...], text: str) -> float:
    low = text.lower()
    return sum(2.0 for k in keywords if k and re.search(rf"\b{re.escape(k)}", low))
