"""What kind of answer a question asks for, and how strongly a passage unit gives that kind.

``classify(question)`` -> :class:`QuestionIntent`: the :class:`QuestionType`
(safety (:mod:`medstation.llm.safety`), symptoms, treatment, causes, diagnosis, prognosis, inheritance, prevention,
frequency, definition, or other) from the question's wording, and its *focus*:
the content words left once the type's own words are removed ("What are the
symptoms of asthma?" -> symptoms, focus {"asthma"}).

``cue(intent, text, *, section, first)`` -> 0, WEAK (0.3) or 1: how plainly a unit
answers that type. 1 ("strong"): it announces the answer ("Symptoms of asthma
include …", "is treated with", "inherited in an autosomal recessive pattern", a
count of people); WEAK ("weak"): it only names the type ("… trigger your
symptoms") or sits under the heading of that type ("Outlook"). Fixed word lists,
no model: the choice is reproducible and each pattern is tested on real
MedQuAD passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from medstation.llm.safety import SAFETY_QUESTION, warning_cue
from medstation.llm.support import required_terms, terms


class QuestionType(str, Enum):
    safety = "safety"
    symptoms = "symptoms"
    treatment = "treatment"
    causes = "causes"
    diagnosis = "diagnosis"
    prognosis = "prognosis"
    inheritance = "inheritance"
    prevention = "prevention"
    frequency = "frequency"
    definition = "definition"
    other = "other"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Question wording, tried in this order (the first match wins: "how many people are affected by the
# inherited form" is a frequency question; "what causes the symptoms" a causes question).
QUESTION_PATTERNS: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    # "Should children take aspirin?" asks for a warning or a permission, not for the drug's uses
    (QuestionType.safety, SAFETY_QUESTION),
    (QuestionType.frequency, _rx(r"\bhow (many|common|often does)\b|\bprevalen|\bincidence\b|\bfrequency of\b")),
    (QuestionType.inheritance, _rx(r"\binherit|\bgenetic|\bgenes?\b|\bhereditary\b|\bpassed down\b|\bruns? in (the )?famil")),
    (QuestionType.prognosis, _rx(r"\boutlook\b|\bprognosis\b|\blife expectancy\b|\bsurviv|\brecover|\bcan .* be cured\b")),
    (QuestionType.prevention, _rx(r"\bprevent|\bavoid\b|\b(reduce|lower) (the |my |your )?risk\b")),
    (QuestionType.diagnosis, _rx(r"\bdiagnos|\btests?\b|\bdetect|\bscreen")),
    (QuestionType.treatment, _rx(r"\btreat|\btherap|\bcure\b|\bmanag|\bmedicines?\b|\bmedications?\b|\bdrugs?\b")),
    (QuestionType.causes, _rx(r"\bcause|\bwhy (do|does|is|are)\b|\brisk\b|\btrigger|\bwho gets\b")),
    (QuestionType.symptoms, _rx(r"\bsymptom|\bsigns?\b|\bfeel like\b")),
    (QuestionType.definition, _rx(r"^\s*(what (is|are)\b|what's\b|define\b|do you have (any )?information\b|"
                                  r"tell me about\b|what does .* mean\b)")),
)

# words of the type itself, removed from the focus ("symptoms of asthma" -> "asthma")
TYPE_WORDS = frozenset(
    "symptom sign feel treat treatment treated therapy therapie cure manage management medicine medication drug "
    "cause caused trigger risk factor diagnose diagnosed diagnosi test tested detect screen screening outlook "
    "prognosi life expectancy survival survive recover recovery inherit inherited inheritance genetic gene "
    "hereditary passed famil family prevent prevented prevention avoid reduce lower affected affect common "
    "prevalence incidence frequency often type define mean tell information diagnosis prognosis therapy".split()
)

_NUMBER = r"\b\d[\d,.]*\b|\b(one|two|three|four|five|ten|hundred|thousand|million|billion) (in|of|out)\b"
_PEOPLE = (r"\b(people|persons?|individuals|americans|adults|children|babies|newborns|births|men|women|males|"
           r"females|patients|cases|population|percent|%)")

# (strong, weak) patterns per type, searched in the unit's text (a list: its lead-in)
CUES: dict[QuestionType, tuple[re.Pattern[str], re.Pattern[str]]] = {
    QuestionType.symptoms: (
        _rx(r"\b(signs?|symptoms?)\b[^.;:]{0,40}\b(include|includes|including|such as)\b|\b(signs?|symptoms?)"
            r"( of [^.;:]{1,40})? (are|may be|can be)( the)? (following|:)|\bmost common (signs?|symptoms?)\b|"
            r"\bcauses? (recurring|symptoms)"),
        _rx(r"\bsymptoms?\b|\bsigns?\b"),
    ),
    QuestionType.treatment: (
        _rx(r"\b(is|are|be|was) (often |usually |mainly |mostly )?treated (with|by)\b|\btreatments? (include|includes|including|may include|can include|"
            r"options|for [\w\s-]{0,30} (include|are|is))\b|\btreat(ed|ing)? .{0,20}\bwith\b|\b(goal|aim) of .*treatment"),
        _rx(r"\btreat|\btherap|\bmedicines?\b|\bmedications?\b|\bsurgery\b|\btransplant|\bcure\b"),
    ),
    QuestionType.causes: (
        _rx(r"\b(is|are|be) caused by\b|\bcauses? (of|include)\b|\b(results?|resulting) from\b|\bdue to\b|"
            r"\brisk factors?\b|\bfactors include\b|\btriggers?\b[^.;:]{0,30}\binclude\b|\bcauses? [a-z ]{0,30}\b(is|are)\b"),
        _rx(r"\bcaus|\brisk\b|\btrigger|\bfactors?\b|\bmutation"),
    ),
    QuestionType.diagnosis: (
        _rx(r"\bdiagnos\w*\b[^.;:]{0,60}\b(based on|by|with|using|include|uses?)\b|\btests?\b[^.;:]{0,30}\b"
            r"(include|can show|show|may|used)\b|\b(blood|lung function|imaging|genetic) tests?\b"),
        _rx(r"\bdiagnos|\btests?\b|\bexam|\bscan|\bbiopsy|\bx-?ray|\bimaging\b"),
    ),
    QuestionType.prognosis: (
        _rx(r"\boutlook\b|\bprognosis\b|\blife expectancy\b|\bno (known )?cure\b|\b(live|lead) (normal|longer|full|"
            r"active)\b|\bsurviv\w*\b[^.;:]{0,30}\b(rate|years?|percent)\b|\bcan be cured\b"),
        _rx(r"\bcure|\bsurviv|\bfatal\b|\bdie\b|\bdeath\b|\brecover|\blive\b"),
    ),
    QuestionType.inheritance: (
        _rx(r"\binherited (in|through|from)\b|\bautosomal\b|\bx-linked\b|\b(dominant|recessive) pattern\b|"
            r"\bpassed (down |on )?(from|to|by)\b|\binherit\w* (one|two|a|the)\b"),
        _rx(r"\binherit|\bgenes?\b|\bgenetic|\bmutation|\bparents?\b|\bcarrier"),
    ),
    QuestionType.prevention: (
        _rx(r"\b(can|may|to|help|helps) (help )?(prevent|avoid|lower|reduce)\b|\bprevent\w*\b[^.;:]{0,30}\b(by|include|is|are)\b|"
            r"\bcan(no|')?t prevent\b|\bvaccin"),
        _rx(r"\bprevent|\bavoid|\breduc\w* (the |your )?risk|\blower (the |your )?risk|\bprotect|\bto keep\b|"
            r"\b(do not|don't|not) smoke\b|\bquit\w* smoking\b|\bhealthy (diet|lifestyle|weight|eating)\b|"
            r"\b(get|getting) (enough|regular)\b"),
    ),
    QuestionType.frequency: (
        _rx(rf"({_NUMBER})[^.;:]{{0,60}}{_PEOPLE}|{_PEOPLE}[^.;:]{{0,40}}({_NUMBER})|\b(very )?(rare|common) (disease|"
            r"condition|disorder)\b|\baffects? (about|approximately|an estimated|more than|nearly)\b"),
        _rx(r"\bcommon\b|\brare\b|\bestimated\b|\baffects?\b|\bprevalen|\bincidence\b"),
    ),
}

SECTION_CUES: dict[QuestionType, re.Pattern[str]] = {
    QuestionType.symptoms: _rx(r"symptom|signs"),
    QuestionType.treatment: _rx(r"treat|therap|managing|management"),
    QuestionType.causes: _rx(r"cause|risk"),
    QuestionType.diagnosis: _rx(r"diagnos|tests?\b"),
    QuestionType.prognosis: _rx(r"outlook|prognosis|living with"),
    QuestionType.inheritance: _rx(r"inherit|genetic"),
    QuestionType.prevention: _rx(r"prevent"),
    QuestionType.frequency: _rx(r"frequency|how common|who is at risk|prevalence"),
}
# "Asthma causes recurring periods of wheezing, chest tightness … and coughing" lists symptoms without the word
_SYMPTOM_WORDS = _rx(r"\b(pain|aches?|fever|cough|coughing|wheezing|fatigue|tiredness|nausea|vomiting|swelling|rash|"
                     r"itching|bleeding|dizziness|headaches?|shortness of breath|weakness|numbness|tingling|"
                     r"chest tightness|diarrhea|constipation|weight loss|sweating|chills|confusion|seizures?)\b")
WEAK = 0.3  # a keyword alone: on topic, a third of the weight of a unit that announces the answer
_DEFINES = _rx(r"^[^.;:]{0,80}?\b(is|are|refers to|means)\b (a|an|the|one|any|when|group|chronic|rare|common)\b")


@dataclass(frozen=True)
class QuestionIntent:
    """The question's type and focus terms (normalised, see :func:`medstation.llm.support.terms`)."""

    kind: QuestionType
    focus: frozenset[str]


def classify(question: str) -> QuestionIntent:
    """The type of ``question`` (first matching pattern of ``QUESTION_PATTERNS``) and its focus."""
    kind = next((k for k, pattern in QUESTION_PATTERNS if pattern.search(question)), QuestionType.other)
    focus = frozenset(t for t in required_terms(question) if t not in TYPE_WORDS and not t.isdigit())
    return QuestionIntent(kind, focus)


def focus_coverage(intent: QuestionIntent, title: str) -> float:
    """Share of the question's focus terms in a passage ``title`` (0..1; 0 when the question has no focus)."""
    if not intent.focus:
        return 0.0
    return len(intent.focus & terms(title)) / len(intent.focus)


def cue(intent: QuestionIntent, text: str, *, section: str = "", first: bool = False) -> float:
    """1 (strong), WEAK or 0: how plainly ``text`` gives the answer type ``intent.kind`` asks for.

    ``section``: the heading the text sits under; ``first``: it opens its passage (a definition usually does).
    """
    kind = intent.kind
    if kind is QuestionType.other:
        return 0.0
    if kind is QuestionType.safety:
        return warning_cue(text)
    if kind is QuestionType.definition:
        if _DEFINES.search(text) and (first or intent.focus & terms(text.split(" is ")[0].split(" are ")[0])):
            return 1.0
        return WEAK if first else 0.0
    strong, weak = CUES[kind]
    if strong.search(text) or (kind is QuestionType.symptoms and len(set(_SYMPTOM_WORDS.findall(text))) >= 2):
        return 1.0
    # under the type's heading ("Outlook") a unit is on topic, but says so no more plainly than a keyword
    return WEAK if weak.search(text) or (section and SECTION_CUES[kind].search(section)) else 0.0
