"""The deterministic side of risk detection: wording patterns per category, negation scope, answers.

Negation looks back at most six words within the clause (commas, "but" and "though" end a clause) and
skips pseudo-negations ("can't stop", "no longer", "not sure"). Patterns that contain their own negation
("don't want to live") start with it, so the look-back cannot read them as a denial.
"""

from __future__ import annotations

import re

_SELF = r"(?:my ?self|yourself|themselves|himself|herself)"
_OTHER = r"(?:him|her|them)(?!sel(?:f|ves)\b)"  # another person: "him", never the start of "himself"
# "cut myself shaving", "burned myself on the oven": an accident, not self-harm ("on purpose" still matches).
_ACCIDENT = (r"(?! (?:shaving|cooking|chopping|by accident|accidentally|on (?:a|an|the|some|broken) (?!purpose)|"
             r"(?:while|when) (?:shaving|cooking|chopping|opening|cutting|fixing|working)))")
PATTERNS: dict[str, list[str]] = {
    "suicidal_ideation": [
        # ... not a bereavement ("my cousin died by suicide", "we lost my uncle to suicide"): someone else's death
        r"(?<!died by )(?<!death by )(?<!lost to )suicid\w*\b(?! prevention| awareness)", r"kill(?:ing|ed)? (?:my ?self|yourself|himself|herself|themselves)", r"end(?:ing)? (?:my|your|his|her) (?:own )?life",
        r"end(?:ing)? it all", r"take (?:my|your|his|her) (?:own )?life",
        r"(?:want|wanted|wanting|wish|wished|wishing)(?: that)? (?:to|i was|i were|i could) (?:die|be dead|not be here|"
        r"not exist|disappear|go to sleep and not wake up)",
        r"better off (?:dead|without me)", r"(?:don'?t|do not|no longer|not|never) (?:want|wanting) to (?:live|be alive|"
        r"be here anymore|wake up)",
        r"(?:don'?t|do not|doesn'?t|does not|no longer) (?:really |even )?(?:care|matter) (?:if|whether) (?:i|he|she|they) "
        r"(?:live|lives|die|dies|wake|wakes)\b",
        r"no (?:reason|point) (?:for me )?(?:to|in) (?:live|living|going on|being alive|stick(?:ing)? around|be here|"
        r"keep going|carry(?:ing)? on)", r"check(?:ing)? out (?:permanently|for good|early)",
        r"(?:relieved|glad|happy|fine|okay|ok|wish|hope|hoping|want|wanted)(?: if I| to)? (?:never|not) (?:to )?wake up",
        r"(?:ran|run|running|sat|sit|sitting) (?:the|my) car in the (?:closed )?garage", r"ty(?:ing|ed?) (?:a|the) knot",
        r"(?:got|have|had) it (?:all )?(?:planned|worked|figured) out", r"thoughts? (?:of|about) (?:dying|death|"
        r"ending (?:it|my life)|not being here)", r"life (?:isn't|is not|wasn't) worth living", r"hang(?:ing)? myself",
        # Indirect statements of intent, plan or preparation (no suicide word at all). Patterns that
        # contain their own negation start with it, so the negation look-back cannot read them as a denial.
        r"(?:don't|do not|can't|cannot|no longer) see (?:the |any )?point (?:of|in) (?:living|life|going on|being alive)",
        r"jump(?:ing)? (?:off|from) (?:a|the|that) (?:bridge|roof|building|cliff|balcony|overpass)",
        r"(?:bought|got|buy|get|have|found) (?:a |some )?(?:rope|noose)(?! (?:ladder|swing|light|toy|bridge|course))", r"noose",
        r"(?:tested|test|checked|tie|tied) (?:the|a) (?:beam|noose|rope)", r"(?:wrote|written|writing) (?:a )?suicide note",
        r"(?:giving|gave) away (?:my|all my) (?:things|stuff|belongings)",
        r"wish(?:ed)? (?:that )?(?:I'd|I had|I was|I were|I) never (?:been born|existed|woken up)",
        # "I'm going to follow through soon", "I'll go through with it" (weak: "go through with it" has other uses)
        r"(?:going to|gonna|will|I'll|I'm going to|ready to) (?:follow through|go through with it)\b(?! (?:on|with) )",
        # Ambivalence about living is a risk ("I'm not sure I want to keep living like this"); the pattern starts
        # with its own negation so the look-back cannot read it as a denial.
        r"(?:not sure|don't know if|do not know if|don't know whether|unsure (?:if|whether)) (?:I|he|she) "
        r"(?:really )?(?:want|wants|wanna|can|could) (?:to )?(?:keep (?:on )?(?:living|going)|live|go on|be (?:here|alive))",
    ],
    "homicidal_ideation": [
        # "him", "her", "them" never as the start of "himself", "herself", "themselves" (_OTHER): that is about
        # the person themselves (suicide or self-harm), not a threat to others.
        r"homicid\w*", r"(?:kill|murder|shoot|stab|strangle)(?:ing)? (?:" + _OTHER + "|someone|somebody|people|"
        r"anyone|everyone|my (?:\w+ )?(?:wife|husband|boss|partner|father|mother|dad|mom|neighbou?r|brother|sister|son|"
        r"daughter|ex|coworker|co-worker|teacher))",
        r"(?:hurt|harm)(?:ing)? (?:others|other people|someone|somebody|anyone|" + _OTHER + ")",
        r"(?:hurt|harm|kill)(?:ing)? (?:the|my|our) (?:kids|children|baby|child|neighbou?rs?|wife|husband|partner|"
        r"son|daughter|boss|family)",
        r"voices? (?:telling|tell|told|tells) me to (?:hurt|kill|harm|attack)",
        r"thoughts? (?:of|about) (?:hurting|harming|killing) (?:others|someone|people|anyone|" + _OTHER + ")",
    ],
    "self_harm": [
        r"self[- ]?harm\w*", r"self[- ]?injur\w*", r"(?:cut|cutting|burn|burning|hurt|hurting|harm|harming|hit|"
        r"hitting|scratch\w*|punish\w*|starv\w*)(?: on)? " + _SELF + _ACCIDENT, r"cutting (?:again|my (?:arms?|legs?|wrists?))",
        r"cut (?:my|her|his) (?:arms?|legs?|wrists?)", r"picking at (?:the|my|her|his) (?:scars|scabs|wounds|cuts)",
        r"(?:stopped|quit) eating",  # restriction with weight loss or fainting is a medical risk (said, not advised)
        # An instrument or a cutting act on a body part, and fresh wounds ("took a blade to my thighs", "carving
        # into her arms", "new cuts on my wrist"); weak: an accident ("the knife slipped onto my arm") needs the
        # semantic detector's agreement.
        r"(?:razor|blade|knife|scissors|compass|lighter|glass|carv\w*|slic\w*|gouge\w*)\b[^.;]{0,30}\b"
        r"(?:my|her|his|their) (?:own )?(?:arms?|legs?|thighs?|wrists?|skin|stomach|body)\b",
        r"(?:using|used|use) (?:a |the |my )?(?:razor|blade)s?(?: blades?)? (?:again|on (?:my|her|his) ?self)",
        r"(?:fresh|new) (?:cuts|burns|scars|marks) on (?:my|her|his|their) "
        r"(?:arms?|legs?|thighs?|wrists?|skin|stomach|body)\b",
    ],
    "abuse": [
        r"abus\w*", r"(?<!\bit )(?<!\bthat )(?<!\bthis )(?:hits|hit|beats|beat|punch\w*|chok\w*|slap\w*|kick\w*|push\w*|shov\w*|grab\w*) me\b"
        r"(?! (?:hard (?:today|in|at|during)|to (?:do|try|be|go|keep|finish|work))|"
        # "hit me up", "pushed me to see a doctor" (but "pushed me to the ground" stays)
        r" (?:up\b|to (?!the |my |her |his |its )\w+))",
        r"(?:throws|threw|throwing|hurls|hurled) (?:things|stuff|objects|plates|dishes|(?:a|his|her|the) \w+) at me\b",
        r"domestic violence", r"sexual(?:ly)? (?:assault\w*|abus\w*|touch\w*)", r"rap(?:e|ed|ing)\b", r"molest\w*",
        r"touch(?:ed|es|ing)? me (?:inappropriately|without|down there)", r"(?:afraid|scared) to go home",
        r"neglect\w*", r"threaten(?:s|ed|ing)? (?:to (?:hurt|kill) )?me",
        # Child endangerment: driving children while intoxicated.
        r"(?:drunk|drinking|intoxicated|high on \w+)\b[^.]{0,60}\bdriv\w* (?:my |the |our )?(?:kids|children|son|daughter|baby)",
    ],
    "overdose": [
        r"overdos\w*\b(?! on (?:coffee|caffeine|sugar|chocolate|candy|junk|tv|netflix|work|news|social media|carbs|sun))", r"\bod(?:'d|ed)\b", r"took (?:a (?:bunch|lot|handful) of|too many|all (?:of )?(?:my|the)) "
        r"(?:pills|tablets|meds|medications?)", r"(?:whole|entire) bottle of",
        # "only about half the bottle" (weak: "half a bottle of wine" is not one)
        r"(?:half|most|the rest) (?:of )?(?:the|a|my|her|his) (?:bottle|pack|packet|box|strip|blister pack)\b"
        r"(?! of (?:wine|vodka|whisk(?:e)?y|rum|gin|beer|water|juice|soda|milk|shampoo|lotion|cereal))",
    ],
    "lethal_means": [r"\b(?:guns?|firearms?|rifles?|pistols?|handguns?|shotguns?)\b", r"stockpil\w+ (?:pills|meds)",
                     r"(?:pills|meds|tablets|medications?)\b[^.]{0,25}\b(?:piled|saved|stashed|hoarded|stockpiled) up"],
}
COMPILED = {cat: [re.compile(rf"\b{p}", re.IGNORECASE) for p in pats] for cat, pats in PATTERNS.items()}

_NEGATION = re.compile(r"\b(?:no|not|never|nobody|no one|nothing|zero|sold|got rid of|locked (?:up|away)|removed|den(?:y|ies|ied|ying)|without|none|nor|negative for|free of|absence of|"
                       r"ruled? out|hasn't|haven't|hadn't|don't|doesn't|didn't|isn't|wasn't|won't|wouldn't|aren't|"
                       r"can't|cannot|n't|dont|doesnt|didnt|havent|hasnt|wont|wouldnt|isnt|wasnt|cant)\b", re.IGNORECASE)
_PSEUDO = re.compile(r"\b(?:can't|cannot|couldn't|can not|won't|not able to|unable to) stop\b|\bno longer\b(?! (?:think|thinks|thought|have|has|feel|feels|get|gets|consider|struggle|cut|hurt|harm)\b)|"
                     r"\bnot (?:sure|only|just)\b|\bnever (?:felt|been) (?:so|this)\b|\bdon't know\b", re.IGNORECASE)
_UNCERTAIN = re.compile(r"\b(?:not sure|unsure|don't know|do not know|maybe|might|i guess|can't say)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:.!?]|\b(?:but|though|although|however|except|yet)\b", re.IGNORECASE)
_AFTER_DENIAL = re.compile(r"^\W*(?:(?:ideation|thoughts?|ideas?|intent|plans?|behaviou?rs?)\W*)*(?:(?:is|are|was|were)\s+)?(?:denied|none|negative|absent|no\b(?!\s+(?:question|doubt|joke|lie|kidding|matter|one|way))|"
                           r"(?:doesn't|does not|don't|do not|never|won't) (?:cross(?:es)?|enter(?:s)?|come(?:s)? into) "
                           r"(?:my|his|her|their) mind|"
                           r"(?:isn't|is not|wasn't|was not|'s not) (?:something|anything) (?:I|he|she|they)(?:'d| would)? "
                           r"(?:ever )?(?:consider|do|think about|want)|"
                           r"(?:\w+ )?(?:went|go|goes|have gone|has gone|are gone|is gone|faded|passed|stopped)\b)", re.IGNORECASE)
ANSWER_NO = re.compile(r"^\W*(?:no|nope|nah|never|not (?:really|at all|anymore)|absolutely not|of course not|"
                        r"i (?:do not|don't|haven't|have not|wouldn't|would never|never))\b", re.IGNORECASE)
ANSWER_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sometimes|a (?:little|bit)|i have|i do|maybe|kind of|sort of|"
                         r"occasionally|once|lately|i guess|honestly|actually|i did|i've thought|i think about)\b",
                         re.IGNORECASE)
_LOOKBACK_WORDS = 6


def negated(text: str, start: int, end: int) -> bool:
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    window = " ".join(clause.split()[-_LOOKBACK_WORDS:])
    if _UNCERTAIN.search(window):
        return False  # "not sure I'm not suicidal" is no denial
    window = _PSEUDO.sub(" ", window)
    if _NEGATION.search(window):
        return True
    return bool(_AFTER_DENIAL.match(text[end:end + 50]) or _RESOLVED_AFTER.match(text[end:end + 90]))


# A risk said to be over, later in the same sentence ("I had thoughts of suicide in college, but not since I
# started treatment", "the urges to cut went away"): a documented history, not a current risk.
_RESOLVED_AFTER = re.compile(
    r"^[^.!?]{0,50}?\b(?:but|and) (?:not|never) (?:since|anymore|any more|again|for (?:years|months|a long time|"
    r"over a year)|in (?:years|months|a long time|over a year))\b|"
    r"^[^.!?]{0,50}?\b(?:went|go|goes|gone|faded|passed) away\b|"
    r"^[^.!?]{0,50}?\bbut (?:that|those|it|they) (?:stopped|ended|went away|passed|faded)\b|"
    r"^[^.!?]{0,50}?\bbut (?:I|he|she|they) (?:haven't|have not|hasn't|has not|haven't had|hasn't had)\b[^.!?]{0,30}"
    r"\b(?:in|for|since) (?:years|months|a long time|over a year|(?:\w+|\d+) (?:years|months))\b", re.IGNORECASE)


def resolved_in_past(sentence: str) -> bool:
    """The sentence says its risk is over ("I used to think about dying but that stopped years ago")."""
    return bool(_RESOLVED_AFTER.match(sentence))


def pattern_spans(text: str) -> list[tuple[str, int, int, int]]:
    """``(category, pattern index, start, end)`` of every match in ``text``; overlapping matches of one
    category are merged into the first (longest-first among equal starts)."""
    out = []
    for category, patterns in COMPILED.items():
        spans = sorted({(m.start(), -m.end(), i) for i, p in enumerate(patterns) for m in p.finditer(text)})
        last_end = -1
        for start, neg_end, index in spans:
            if start < last_end:
                continue
            last_end = -neg_end
            out.append((category, index, start, -neg_end))
    return out


_ANY_NEGATION = re.compile(r"\b(?:no|not|never|nobody|no one|nothing|zero|sold|got rid of|locked (?:up|away)|removed|nobody|nothing|none|den(?:y|ies|ied|ying)|without|n't|"
                           r"hasn't|haven't|hadn't|don't|doesn't|didn't|isn't|wasn't|won't|wouldn't|aren't|"
                           r"can't|cannot|dont|doesnt|didnt|havent|hasnt|wont|wouldnt|isnt|wasnt|cant)\b|n't\b",
                           re.IGNORECASE)
# Negation removed, word by word, to ask the classifier what the sentence would say without it.
_UNNEGATE = [(re.compile(rf"\b{a}\b", re.IGNORECASE), b) for a, b in (
    (r"won'?t", "will"), (r"can'?t|cannot", "can"), (r"(do|does|did|is|was|are|were|has|have|had|would|could|should)n'?t",
                                                     r"\1"),
    (r"never", ""), (r"not", ""), (r"no", "some"), (r"nobody|no one", "somebody"), (r"nothing", "something"),
    (r"none", "some"), (r"den(?:y|ies|ied|ying)", "report"), (r"without", "with"))]


def has_negation(text: str) -> bool:
    """Any negation word in ``text`` (pseudo-negations such as "no longer" and "can't stop" excluded)."""
    return bool(_ANY_NEGATION.search(_PSEUDO.sub(" ", text)))


def without_negation(text: str) -> str:
    """``text`` with its negations dropped ("I don't want to die" -> "I do want to die")."""
    for pattern, repl in _UNNEGATE:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def _index(category: str, fragment: str) -> tuple[str, int]:
    return category, next(i for i, p in enumerate(PATTERNS[category]) if fragment in p)


#: Patterns whose words have everyday uses ("bought rope for the tent", "gun show"): a match of one counts
#: only when the semantic detector also finds some risk in the sentence (or could not run).
WEAK = {_index("suicidal_ideation", "(?:rope|noose)"), _index("suicidal_ideation", "follow through"), _index("overdose", "(?:half|most|the rest)"), _index("suicidal_ideation", "giving|gave"),
        _index("self_harm", "eating"), _index("self_harm", "razor|blade"), _index("lethal_means", "guns?")}

# First-person denial shapes, whatever the risk words ("I have no intention of hurting him", "he has never
# hit me", "I didn't take too many"), and protective statements ("I want to live"): with these the
# semantic detector's reading of risk words is a documented denial, not a risk.
DENIAL_SHAPE = re.compile(
    r"\b(?:no|zero|not any|never (?:had|have) any|don't have any|do not have any|without)\s+(?:\w+\s+)?(?:intention|intent|"
    r"plans?|thoughts?|urges?|desire|wish|history)\b|"
    r"\bden(?:y|ies|ied|ying)\b|"
    r"\b(?:never|not|nobody|no one|didn'?t|did not|haven'?t|have not|hasn'?t|has not|wouldn'?t|would not|won'?t|will not|"
    r"doesn'?t|does not|don'?t|do not)\s+"
    r"(?:\w+\s+){0,2}(?:hurt|harm|hit|kill|touch|control|abuse|threaten|attempt|tr(?:y|ied)|t[oa]ke?n?|took|"
    r"cut|overdos|do anything|violent|rough|abusive|laid|lay|check|stop|force|isolat|track|monitor|follow)\w*\b|"
    r"\bnot (?:going|gonna) to (?:hurt|harm|kill|do anything)\b|"
    r"\b(?:doesn'?t|does not|don'?t|do not|never) (?:cross(?:es)?|enters?|comes? into) (?:my|his|her|their) mind\b|"
    r"\b(?:don'?t|do not|never) wish (?:I was|I were|to be|I'd be) dead\b|"
    r"\bthere(?:'s| is| are) no\b|\bno (?:rope|pills|guns?|weapons?|firearms?|knives|stockpile)\b", re.IGNORECASE)
PROTECTIVE = re.compile(r"\b(?:want|going|choose|decided) to (?:live|keep living|stay alive|get better)\b|"
                        r"\b(?:reasons?|something|a lot|so much|too much|plenty|lots|everything) to live for\b|"
                        r"\bas prescribed\b|\b(?:only )?(?:took|take|taking) what (?:the|my) (?:doctor|prescription|label)\b|"
                        r"\bexactly what'?s? (?:prescribed|on the label)\b", re.IGNORECASE)


def reads_as_denial(sentence: str) -> bool:
    """A negated first-person denial shape, or a protective statement without negation."""
    if has_negation(sentence):
        return bool(DENIAL_SHAPE.search(sentence))
    return bool(PROTECTIVE.search(sentence))


# Everyday idioms built on risk words ("I'd kill for a coffee", "dying to see it", "the commute will be the
# death of me", "my hands were shot", "cut ties"): a sentence the classifier reads as a risk only
# weakly (below ``IDIOM_CEILING`` in risk_semantic) and that rests on one of these is not flagged.
IDIOM = re.compile(
    r"\b(?:would|'d|could|i) (?:kill|die|murder) (?:for|to (?:have|get|be|see))\b|\bto die for\b|"
    r"\bdying (?:to|for|of (?:laughter|boredom|embarrassment|curiosity|hunger|thirst|heat|cold))\b|"
    r"\bdeath of (?:me|us)\b|\bgoing to kill me (?:when|if)\b|\bshoot (?:\w+ ){0,2}(?:a )?(?:text|message|email|line)\b|"
    r"\bshot down\b|\bchoked on (?:my|a|the|his|her) (?:drink|food|water|coffee|tea)\b|"
    r"\battacks? (?:his|her|my|their) (?:dinner|food|plate|lunch|breakfast)\b|\bswallow me (?:up|whole)\b|"
    r"\b(?:is|are|was|were|'s|'re) killing (?:me|us|my \w+)\b|"
    r"\bkill(?:ed|ing|s)? (?:it|th(?:is|at) (?:exam|test|cold|cough|headache|interview|presentation|workout|game|"
    r"song|set|class|shift|project))\b|\bslay(?:ed|ing|s)?\b|"
    r"\bdead (?:tired|beat|set|serious|on (?:my|his|her) feet|wrong|last)\b|"
    r"\b(?:legs|arms|feet|hands|back|phone|battery|car) (?:are|is|were|was|feel|felt|went) (?:totally |completely )?dead\b|\blike the dead\b|\bto death of\b|"
    r"\b(?:is|are|was|were|'s|'re) shot\b|\bshoot(?:ing)? for\b|\bshot (?:some|a few|hoops|photos|pool|the breeze)\b|"
    r"\bcut(?:ting|s)? (?:ties|back|down|out|carbs|sugar|corners|class)\b|"
    r"\bcut(?:ting|s)? (?:(?:my|his|her|their|the|some|people's) )?(?:hair|grass|lawn|wood|paper|coupons|fabric|"
    r"vegetables|costs|prices)\b|"
    r"\bend (?:the|this|my|our) (?:week|day|month|shift|lease|year|session|call)\b|"
    r"\b(?:phone|battery|laptop|car|plants?|computer|fish) (?:died|is dead|was dead|(?:are|keep) dying)\b|"
    r"\b(?:pick(?:ed|ing)? up|refill\w*|fill\w*) (?:my |a |the )?(?:prescription|refill|meds|medication)\b|"
    # an accident ("I cut myself on a broken glass while washing up", "burned my hand cooking")
    r"\b(?:cut|cutting|burn(?:ed|t|ing)?|scratch(?:ed|ing)?|nick(?:ed)?) (?:myself|my (?:finger|hand|thumb|arm|leg|foot|"
    r"knee|lip|chin))(?= (?:shaving|cooking|chopping|by accident|accidentally|on (?:a|an|the|some|broken) (?!purpose)|"
    r"(?:while|when) \w+ing))",
    re.IGNORECASE)


# Hyperbole that is never a risk whatever the classifier says ("I could have strangled him when he forgot our
# anniversary", "if I eat one more salad I'll shoot myself", "I jumped out of my skin"): a sentence holding one
# is not flagged by the patterns nor by the semantic detector. Kept narrow: "if I have to live one more day
# like this I'll kill myself" is not one (a day, a week, a night of this life is excluded).
HYPERBOLE = re.compile(
    r"\bcould (?:have|'ve) (?:killed|strangled|murdered|throttled|wrung (?:his|her|their) necks?)\b[^.!?]{0,60}"
    r"\b(?:when|for|because|after)\b|"
    r"\bif I (?:have to )?(?:eat|hear|see|sit through|watch|read|answer|listen to|sing|play)\b[^.!?]{0,40}"
    r"\b(?:one more|another)\b(?! (?:day|night|week|month|year|minute|second|hour)s?\b)(?![^.!?]{0,20}"
    r"\b(?:like this|of this)\b)[^.!?]{0,40}\b(?:myself|scream|lose it|die)\b|"
    r"\bjump(?:ed|ing|s)? out of (?:my|his|her|their) skin\b|\bcould eat a horse\b", re.IGNORECASE)


def hyperbole_in(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` lies in a sentence of ``text`` that holds a :data:`HYPERBOLE`."""
    a = max((m.end() for m in re.finditer(r"[.!?](?:\s|$)", text[:start])), default=0)
    b = next((m.start() + 1 for m in re.finditer(r"[.!?](?:\s|$)", text) if m.start() >= end - 1), len(text))
    return bool(HYPERBOLE.search(text[a:b]))
