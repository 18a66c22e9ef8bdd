"""The content a therapist expects in a session note, as topics a transcript sentence can be about.

Each :class:`Topic` has word patterns, the speaker roles it applies to, and the cue groups
(:data:`medstation.notes.templates.CUE_GROUPS`) of the sections it belongs in, in order of
preference: a SOAP note puts interventions in Plan (its only section with the ``intervention``
group), a DAP note in Data, a BIRP note in Intervention (:func:`route`). A sentence on a topic is
always note material, even when short ("I missed group."), and a section that takes a topic nobody
spoke about says so (:func:`uncovered`).

Patterns are word-start matches written from general clinical vocabulary (not from one transcript).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.notes.transcript import SpeakerRole

_C, _T = SpeakerRole.client, SpeakerRole.clinician


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    pattern: re.Pattern
    roles: tuple[SpeakerRole, ...]
    groups: tuple[str, ...]  # cue groups of the sections it belongs in, preferred first
    reported: bool = True  # listed as "not discussed" when absent


def _words(*alternatives: str) -> re.Pattern:
    return re.compile(r"(?<![\w'])(?:%s)" % "|".join(alternatives), re.IGNORECASE)


_MED_WORDS = (r"medication|meds\b|pills?\b|prescri\w*|dose|dosage|mg\b|milligram|pharmacy|refill|side effects?|"
              r"psychiatrist|nurse practitioner|[a-z]{3,}(?:oxetine|aline|pram|azepam|azolam|apine|idone|triptyline|"
              r"pramine|ipramine|afaxine|etine|xetine|zapine|pirone|trexone|phine)\b|sertraline|lithium|zoloft|"
              r"prozac|lexapro|wellbutrin|bupropion|trazodone|seroquel|quetiapine|abilify|lamictal|lamotrigine|"
              r"depakote|adderall|ritalin|propranolol|prazosin|hydroxyzine|buspirone|naltrexone|suboxone|"
              r"methadone|antabuse|gabapentin|mirtazapine|melatonin")

TOPICS: tuple[Topic, ...] = (
    Topic("safety", "safety and risk", _words(
        r"suicid\w*", r"kill(?:ing)? (?:my|him|her)sel", r"end(?:ing)? (?:my|it|his|her) ", r"hurt(?:ing)? (?:my|your)self",
        r"harm(?:ing)? (?:my|your)self", r"self[- ]?harm", r"cut(?:ting)? (?:my|again)", r"\bunsafe", r"safe\b",
        r"safety", r"scared of (?:him|her|them)", r"afraid of (?:him|her|them)", r"(?:hit|hits|shoved?|grabbed|pushed|"
        r"choked|slapped|kicked|threw \w+ at) me", r"abus\w*", r"threat\w*", r"gun\b", r"weapon", r"overdos\w*",
        r"better off", r"wish(?:ed)? I (?:wasn't|was dead|could die|wouldn't wake)", r"not wake up", r"crisis",
        r"hotline", r"thoughts? (?:of|about) (?:hurting|harming|killing|dying|death|ending)", r"want(?:ed)? to die",
        r"lock my door", r"all (?:of )?(?:my|the|her|his) (?:pills|meds|medication)", r"(?:bottle|stash|supply) of",
        r"(?:thought|thinking|think) about (?:taking|ending|killing|hurting|dying|not being|jumping|overdos)",
        r"plan or a date", r"child protective|cps\b|protective services", r"harm reduction|naloxone|narcan"),
        (_C, _T), ("assessment", "history"), reported=True),
    Topic("medication", "medication and adherence", _words(_MED_WORDS), (_C, _T), ("history",)),
    Topic("substance", "substance use", _words(
        r"alcohol", r"drink\w*", r"drank", r"drunk", r"beers?\b", r"wine", r"vodka", r"whiskey", r"liquor",
        r"cannabis", r"weed\b", r"marijuana", r"smok\w+", r"vap\w+", r"meth\b", r"cocaine", r"crack\b", r"heroin",
        r"opioid", r"fentanyl", r"using\b", r"high\b", r"sober\w*", r"relaps\w*", r"slip\b", r"\baa\b",
        r"sponsor", r"nicotine", r"cigarette"), (_C, _T), ("history",)),
    Topic("sleep", "sleep", _words(
        r"sleep\w*", r"slept", r"asleep", r"insomnia", r"nightmares?", r"wak(?:e|es|ing)\b", r"woke", r"awake",
        r"in bed", r"naps?\b", r"overslept", r"\d+ ?hours a night", r"(?:a|p)\.m\.", r"exhaust\w*",
        r"nodded off"), (_C, _T), ("history",)),
    Topic("appetite", "appetite and eating", _words(
        r"appetite", r"eat\w*", r"\bate\b", r"meals?\b", r"hungry", r"food", r"lunch", r"breakfast", r"dinner",
        r"weight", r"pounds", r"kilos"), (_C, _T), ("history",)),
    Topic("mood", "mood and affect", _words(
        r"mood", r"depress\w*", r"sad\b", r"down\b", r"low\b", r"hopeless\w*", r"anxious", r"anxiety", r"worr\w+",
        r"panic\w*", r"angry", r"anger", r"irritab\w+", r"guilt\w*", r"numb\b", r"flat\b", r"cry\w*", r"cried",
        r"tearful", r"happy", r"better\b", r"worse\b", r"overwhelm\w*", r"stress\w*", r"lonely", r"scared",
        r"out of ten", r"/10\b", r"failure", r"empty", r"calm\w*", r"in control", r"rough\b", r"hopeful"),
        (_C,), ("history",)),
    Topic("attendance", "attendance", _words(
        r"miss(?:ed|ing)\b", r"skip\w*", r"didn't (?:come|go|make it|show)", r"did not (?:come|go|make it|show)",
        r"no[- ]show", r"cancel\w*", r"showing up", r"stopped (?:going|coming|showing)", r"haven't been (?:going|"
        r"coming|since)", r"went (?:to|back to) (?:the )?(?:group|class|aa|meeting|program)", r"attend\w*",
        r"(?:group|class|program) (?:on|last|this)"), (_C, _T), ("history",)),
    Topic("activity", "activities and homework done", _words(
        r"i went\b", r"i did (?:it|the|my|some|one|two|three)", r"i tried", r"i (?:practi[sc]ed|kept|used|walked|"
        r"exercised|stayed|finished|started|joined|called|signed)", r"i've been (?:going|doing|practi|using|walking)",
        r"(?:the|my) (?:homework|diary|log|exercise|practice|worksheet)"), (_C,), ("history",), reported=False),
    Topic("stressors", "stressors", _words(
        r"work\b", r"job\b", r"boss", r"manager", r"laid off", r"layoff", r"fired", r"money", r"rent\b", r"bills?\b",
        r"evict\w*", r"housing", r"apartment", r"homeless", r"divorce", r"custody", r"break[- ]?up", r"fight\w*",
        r"argu\w+", r"yell\w*", r"scream\w*", r"husband", r"wife", r"partner", r"boyfriend", r"girlfriend",
        r"mother|mom\b", r"father|dad\b", r"stepfather|stepdad|stepmother", r"\bex\b", r"school", r"exam",
        r"died", r"death", r"funeral", r"grief", r"moved in", r"taking care", r"surgery", r"court", r"performance plan"),
        (_C,), ("history",), reported=True),
    Topic("observation", "presentation", _words(
        r"you (?:look|seem|appear)", r"i (?:can )?see\b", r"i notic\w+", r"i observ\w+", r"tearful", r"eye contact",
        r"your speech", r"speaking", r"smil\w+", r"restless", r"fidget\w*", r"on edge", r"clench\w*",
        r"bandag\w+", r"unshaven", r"thin\b", r"jumped", r"your (?:hands|arms?|face|voice)", r"groomed"),
        (_T,), ("exam",), reported=False),
    Topic("intervention", "interventions", _words(
        r"practi[sc]\w*", r"breath\w*", r"grounding", r"mindful\w*", r"relaxation", r"cbt\b", r"cognitive",
        r"restructur\w*", r"refram\w*", r"thought record", r"exposure", r"ladder", r"psychoeducation",
        r"educat\w+", r"explained", r"reviewed", r"talked (?:about|through)", r"discussed", r"explored",
        r"worked (?:on|through)", r"role[- ]play", r"motivational interviewing", r"chain analysis", r"safety plan",
        r"harm reduction", r"validat\w+", r"coping", r"skills?\b", r"dbt\b", r"behaviou?ral activation",
        r"stimulus control", r"sleep hygiene", r"problem[- ]solving", r"relapse (?:plan|prevention)",
        r"we (?:did|used|made|built|went|wrote)", r"gave you", r"time-out", r"wind-down", r"warning signs"),
        (_T,), ("intervention", "plan"), reported=True),
    Topic("response", "response to interventions", _words(
        r"(?:that|it|this) (?:helped|helps|makes sense|made sense)", r"i (?:can|could|will|'ll) try", r"easier",
        r"calmer", r"relief", r"doable", r"i like (?:that|having|the)", r"feel(?:s)? (?:better|calmer|lighter|less)",
        r"less (?:stuck|hard)", r"loosen\w*", r"makes me feel", r"scares me", r"hard for me", r"i didn't know"),
        (_C,), ("response", "assessment"), reported=False),
    Topic("plan", "homework and next steps", _words(
        r"homework", r"i(?:'d| would)(?: also)? like you to", r"i(?: also| really)? (?:want|need) you to", r"please\b", r"try (?:to|the|one|"
        r"cutting)", r"keep (?:a|the|tracking|going)", r"\blog\b", r"diary", r"track\w*",
        r"(?:call|contact|email|text|phone)(?:ing)? (?:the|your|my|me|him|her|them|dr|us|back|their|our|his)\b",
        r"refer\w*", r"appointment", r"schedul\w+", r"next (?:session|appointment|week|time|monday|tuesday|"
        r"wednesday|thursday|friday)", r"see you (?:on|next|in|again|monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday|tomorrow|the)", r"meet (?:again|on|in)", r"follow[- ]?up", r"check in",
        r"let's (?:meet|plan|also)", r"we'll (?:meet|review|see)", r"i'm going to", r"i'll", r"bring", r"by (?:monday|"
        r"tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow)", r"tomorrow", r"tonight",
        r"(?:on|by) (?:the )?\d{1,2}(?:st|nd|rd|th)\b"), (_T,), ("plan",), reported=True),
)
TOPIC_BY_KEY = {t.key: t for t in TOPICS}


def topics_of(text: str, role: SpeakerRole) -> list[str]:
    """Keys of the topics ``text`` (said by ``role``) is about, in :data:`TOPICS` order."""
    return [t.key for t in TOPICS if role in t.roles and t.pattern.search(text)]


def route(topic_keys: list[str], section_groups: list[tuple[str, ...]]) -> int | None:
    """Index of the section a sentence with these topics belongs in, or None.

    The first topic (in :data:`TOPICS` order: safety, then clinician items, then the client's report)
    that some section takes decides; within a topic its preferred cue group wins.
    """
    order = sorted(topic_keys, key=_PRIORITY.index)
    for key in order:
        for group in TOPIC_BY_KEY[key].groups:
            for i, groups in enumerate(section_groups):
                if group in groups:
                    return i
    return None


#: Which topic decides a sentence's section when it has several ("I'll call your psychiatrist" is plan).
_PRIORITY = ["plan", "intervention", "safety", "observation", "response", "medication", "substance", "attendance",
             "sleep", "appetite", "mood", "activity", "stressors"]


def uncovered(found: set[str], section_groups: list[tuple[str, ...]]) -> dict[int, list[str]]:
    """Section index -> labels of reportable topics routed there that no transcript sentence covered."""
    out: dict[int, list[str]] = {}
    for topic in TOPICS:
        if not topic.reported or topic.key in found:
            continue
        i = route([topic.key], section_groups)
        if i is not None:
            out.setdefault(i, []).append(topic.label)
    return out
