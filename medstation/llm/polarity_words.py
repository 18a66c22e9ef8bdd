"""The word lists of :mod:`medstation.llm.polarity` and its stemmer: what each word *does* in a sentence.

Lists of word classes (negation cues, direction pairs, quantifiers, modals, people), written for the classes,
not for any evaluation sentence. A word in several lists is read by the first that applies in
:func:`medstation.llm.polarity.analyse` (negation, direction bound, role, quantifier, modal, direction).
"""

from __future__ import annotations

from functools import lru_cache

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                     "ninety": 90, "hundred": 100, "thousand": 1000, "million": 1000000, "once": 1, "twice": 2,
                     "half": 0.5, "dozen": 12, "single": 1, "double": 2, "triple": 3})
UNITS = frozenset("""mg milligram g gram mcg microgram kg kilogram lb pound ml milliliter l liter mmol mmhg percent iu
unit hour hr day week month year minute min second time dose tablet pill capsule cigarette drink beer glass cup
shot session inch cm mm foot feet mile am pm night""".split())
#: Function words and fillers: never content, never required for support.
STOP = frozenset("""a an the and or but if so of to in on at for with from by as is are was were be been being am it
its this that these those we our you your he him his she her they them their what which who whom whose do does did doing
done have has had having yes yeah okay ok just really very um uh er hmm mm like know mean well there here then
too also about around approximately nearly almost roughly up out again any each either other another such own
same how why whether get got gets getting go goes going gone went lot lots thing things kind sort way much one
ones someone something anything everything per via through within into onto upon between whose whom include
includes including
called known among amongst appear appears appeared appearing develop develops developed developing experience experiences experienced occur occurs occurred
occurring happen happens happened likely tend tends use uses used using located situated i me my mine myself
us herself himself themselves itself yourself mostly even actually basically literally pretty quite rather
somewhat maybe perhaps probably just now still anymore""".split())
#: Words that name what a clause does not say, with how far their scope runs ("np": to the next auxiliary).
NEGATION_CUES = {**{w: "clause" for w in """not never nor neither deny denies denied denying stop stops stopped
stopping unlikely quit quits quitting discontinue discontinued discontinues discontinuing discontinuation ceased
cease cessation avoid avoids avoided avoiding unable fail fails failed
refuse refuses refused nobody nothing nowhere""".split()},
                 **{w: "np" for w in "no none without lack lacks lacking absent absence free".split()}}
#: Verb cues negate their object, not the rest of the clause: "Stopping smoking is the best way to slow it" says
#: nothing negative about slowing (their scope ends where an "np" cue's does).
VERB_CUES = frozenset("""stop stops stopped stopping quit quits quitting discontinue discontinued discontinues ceased
cease avoid avoids avoided avoiding discontinuing discontinuation cessation""".split())
NP_SCOPE_END = frozenset("""is are was were be been being am can could may might must should will would shall do does
did has have had""".split())
#: Direction and comparison: word -> (group, value). Only differing values of one group contradict each other.
DIRECTION = {}
for _group, _values in {
    "amount": {"up": """more greater higher high increase increases increased increasing raise raises raised raising
               rise rises rising rose elevated gain gains gained gaining larger bigger above over exceed exceeds
               exceeding excess upper maximum major plus""",
               "down": """less fewer lower low lowers lowered lowering decrease decreases decreased decreasing reduce
               reduces reduced reducing reduction drop drops dropped dropping fall falls fell falling decline declines
               declined smaller below under beneath loss lose loses losing lost minus cut minimum minor"""},
    "time": {"before": "before prior earlier early previously beforehand",
             "after": "after later late afterwards following subsequently"},
    "quality": {"better": "better best improve improves improved improving improvement",
                "worse": "worse worst worsen worsens worsened worsening deteriorate deteriorated"},
    "side": {"left": "left", "right": "right"},
    "inheritance": {"dominant": "dominant", "recessive": "recessive"},
    "speed": {"fast": "fast faster fastest rapid rapidly quick quickly speed speeds race races racing",
              "slow": "slow slower slowest slowly slows slowed"},
    "length": {"long": "long longer longest tall taller tallest", "short": "short shorter shortest"},
    "age": {"old": "old older oldest elderly aged", "young": "young younger youngest"},
    "frequency": {"common": "common frequent prevalent", "rare": "rare uncommon infrequent"},
    "severity": {"mild": "mild mildly minor", "severe": "severe severely serious seriously"},
    "richness": {"rich": "rich", "poor": "poor"},
    "temperature": {"hot": "hot warm heat", "cold": "cold cool chill"},
    "daytime": {"morning": "morning mornings", "evening": "evening evenings afternoon night nights nighttime bedtime"},
    "effect": {"cause": """cause causes caused causing lead leads promote promotes trigger triggers result results
               resulting produce produces induce induces""",
               "prevent": "prevent prevents prevented preventing protect protects protected block blocks"},
    "sign": {"positive": "positive", "negative": "negative"},
    "course": {"acute": "acute", "chronic": "chronic"},
    "malignancy": {"benign": "benign", "malignant": "malignant"},
    "moisture": {"wet": "wet moist damp", "dry": "dry drier dryness"},
    "strength": {"strong": "strong stronger strongest strengthen strengthens strengthened",
                 "weak": "weak weaker weakest weaken weakens weakened weakness"},
    "safety": {"safe": "safe safer safely harmless", "unsafe": "unsafe dangerous harmful hazardous risky"},
    "onset": {"sudden": "sudden suddenly abrupt abruptly", "gradual": "gradual gradually"},
    "firmness": {"hard": "hard firm", "soft": "soft"},
    "thickness": {"thick": "thick thicker", "thin": "thin thinner"},
    "normality": {"normal": "normal", "abnormal": "abnormal"},
    "fullness": {"full": "full", "empty": "empty"},
}.items():
    for _value, _words in _values.items():
        DIRECTION.update({w: (_group, _value) for w in _words.split()})
#: Quantifiers and frequency adverbs -> class. ``most`` before an adjective is a superlative (direction).
QUANTIFIERS = {**{w: "all" for w in "all every always each invariably entire entirely only whole universally".split()},
               **{w: "most" for w in """most usually normally mostly majority generally typically mainly largely
               predominantly""".split()},
               **{w: "often" for w in "often many regularly frequently commonly".split()},
               **{w: "some" for w in "some sometimes occasionally several".split()},
               **{w: "few" for w in "few rarely seldom infrequently minority hardly barely".split()}}
MODALS = {**{w: "obligation" for w in
             "must required require requires need needs needed necessary essential mandatory".split()},
          **{w: "advice" for w in "should ought recommended recommend recommends advised advise advisable".split()},
          **{w: "possibility" for w in "may might can could possible possibly potential potentially able".split()},
          **{w: "certainty" for w in "will definitely certainly certain inevitably surely".split()}}
#: Wordings of one meaning, read as one: "no less than 30 minutes" is "at least 30 minutes", "once daily" is
#: "once a day" (both sides of a comparison are rewritten alike, so nothing else can change).
BOUND_WORDING = {("no", "less", "than"): ["at", "least"], ("not", "less", "than"): ["at", "least"],
                  ("no", "fewer", "than"): ["at", "least"], ("not", "fewer", "than"): ["at", "least"],
                  ("no", "more", "than"): ["at", "most"], ("not", "more", "than"): ["at", "most"],
                  # "stay away from alcohol" says "avoid alcohol" (a negation cue)
                  **{(verb, where, "from"): ["avoid"] for verb in "stay stays staying keep keeps keeping".split()
                     for where in ("away", "home")},
                  **{(verb, "clear", "of"): ["avoid"] for verb in "steer steers steering".split()}}
#: Joining wordings: "X, together with Y," and "as well as" join like "and"; "rather than" and "instead of" both say
#: one thing is used in place of another (read as "instead", so "than" stays a comparison word elsewhere).
JOINING_WORDING = {("together", "with"): ["and"], ("along", "with"): ["and"], ("as", "well"): ["and"],
                    ("rather", "than"): ["instead"], ("instead", "of"): ["instead"]}
#: "smaller than 5 mm" says what "under 5 mm" says (before a number only).
THAN_BOUND = {**dict.fromkeys("smaller less fewer lower shorter younger".split(), "under"),
               **dict.fromkeys("larger bigger more greater higher longer older".split(), "over")}
PERIOD_ADVERBS = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year", "hourly": "hour"}
ORDINALS = frozenset({"first", "second", "third", "last"})
#: Time words: "last week" is a date, not "the last" of a series.
TIME_WORDS = frozenset("""week weeks month months year years day days night nights time times weekend visit session
sessions summer winter spring fall autumn morning evening""".split())
#: Verbs that open an instruction ("Take the tablet before meals"): read as advice, like "should".
IMPERATIVES = frozenset("""take give use avoid call see keep drink eat wash apply ask tell check wear put place seek
talk let make stay limit stop start try get""".split())
#: Who a clause is about: word -> role (synonyms and plurals share one role).
ROLES = {}
for _role, _words in {
    "male": "man men male males boy boys", "female": "woman women female females girl girls",
    "child": "child children kid kids infant infants newborn newborns baby babies toddler toddlers adolescent "
             "adolescents teen teens teenager teenagers youth",
    "adult": "adult adults", "mother": "mother mothers mom mum mommy maternal", "father": "father fathers dad daddy "
             "paternal", "parent": "parent parents", "sister": "sister sisters", "brother": "brother brothers",
    "husband": "husband", "wife": "wife", "partner": "partner boyfriend girlfriend spouse fiance ex",
    "son": "son sons", "daughter": "daughter daughters", "boss": "boss manager supervisor",
    "coworker": "coworker coworkers colleague colleagues", "friend": "friend friends", "neighbor": "neighbor "
             "neighbour neighbors", "stepparent": "stepdad stepfather stepmom stepmother", "doctor": "doctor "
             "physician psychiatrist prescriber gp", "therapist": "therapist counselor counsellor",
    "teacher": "teacher teachers", "grandparent": "grandmother grandma grandfather grandpa",
    "classmate": "classmate classmates peer peers schoolmate", "roommate": "roommate roommates housemate",
    "relative": "cousin cousins aunt uncle nephew niece relative relatives family", "grandchild": "grandson "
    "granddaughter grandchild grandchildren", "stepchild": "stepson stepdaughter", "landlord": "landlord",
    "police": "police officer officers cop cops", "nurse": "nurse nurses", "coach": "coach", "caregiver":
    "caregiver carer", "student": "student students pupil pupils", "stranger": "stranger strangers",
    "first": "first initial", "second": "second", "third": "third", "last": "last final",
}.items():
    ROLES.update({w: _role for w in _words.split()})
FIRST_PERSON = frozenset("i me myself".split())
IRREGULAR = {**{w: w for w in """apply supply reply comply rely imply multiply fly family early holy ally belly
                              jelly""".split()},
             "daily": "day", "weekly": "week", "monthly": "month", "yearly": "year", "nightly": "night",
             "children": "child", "men": "man", "women": "woman", "took": "take", "taken": "take", "went": "go",
              "was": "be", "were": "be", "is": "be", "are": "be", "been": "be", "had": "have", "has": "have",
              "did": "do", "does": "do", "felt": "feel", "slept": "sleep", "told": "tell", "said": "say",
              "made": "make", "began": "begin", "begun": "begin", "brought": "bring", "kept": "keep", "woke": "wake",
              "woken": "wake", "drove": "drive", "driven": "drive", "ate": "eat", "eaten": "eat", "drank": "drink",
              "drunk": "drink", "gave": "give", "given": "give", "grew": "grow", "grown": "grow", "fallen": "fall",
              "spoke": "speak", "wrote": "write", "written": "write", "thought": "think", "meds": "medication",
              "med": "medication", "medicine": "medication", "medicines": "medication", "mom": "mother",
              "mum": "mother", "dad": "father", "kid": "child", "kids": "child", "doc": "doctor", "lent": "lend",
              "paid": "pay", "met": "meet", "sent": "send", "left": "left", "hit": "hit", "cut": "cut", "quit": "quit",
              "lost": "lose", "daily": "day", "nightly": "night", "weekly": "week", "monthly": "month",
              "people": "person", "patient": "person", "patients": "person", "individual": "person",
              "individuals": "person", "persons": "person", "anyone": "person", "anybody": "person",
              "someone": "person", "somebody": "person"}
SUFFIXES = (("ations", ""), ("ation", ""), ("ments", ""), ("ment", ""), ("ness", ""), ("ings", ""), ("ing", ""),
             ("ied", "y"), ("ies", "y"), ("edly", ""), ("ed", ""), ("ly", ""), ("sses", "ss"), ("xes", "x"),
             ("ches", "ch"), ("shes", "sh"), ("s", ""))
CLAUSE_WORDS = frozenset("""but although though whereas while because unless if when whenever which who where except
however yet since until""".split())
COMMA_OPENS = frozenset("""and or but the a an this that these those it they he she i we you there so then however
especially including such like""".split())
AND_OPENS_CLAUSE = frozenset("""i you he she it we they this that these those there is are was were can may might must
should will would could do does did has have had also then""".split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, deterministic stem: ``treated``/``treatment``/``treats`` -> ``treat``; ``stopped`` -> ``stop``."""
    word = word.lower()
    if word[:1].isdigit():
        return word.replace(",", "")
    if word in IRREGULAR:
        mapped = IRREGULAR[word]
        if mapped != word:
            return stem(mapped)
        suffixes: tuple = ()
    else:
        suffixes = SUFFIXES
    for suffix, repl in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= (2 if suffix in ("ed", "ing") else 3):
            if (suffix == "s" and word.endswith(("ss", "us", "is"))) or (suffix == "ed" and word.endswith("eed")):
                continue
            word = word[: len(word) - len(suffix)] + repl
            break
    if len(word) > 2 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


#: Scales whose adjectives compare ("colder", "milder"); not verbs ("blocker", "leader" say no direction).
_GRADED = frozenset("""temperature richness speed length age frequency severity moisture strength safety firmness
thickness fullness""".split())


def comparative_base(word: str) -> str | None:
    """The listed direction word a comparative or superlative is made from (``colder`` -> ``cold``, ``hotter`` ->
    ``hot``, ``rarest`` -> ``rare``, ``earliest`` -> ``early``), or None: a passage's "warmer seasons" and a
    claim's "colder seasons" are one temperature scale whichever forms the list names."""
    for suffix in ("est", "er"):
        if len(word) <= len(suffix) + 2 or not word.endswith(suffix):
            continue
        base = word[:-len(suffix)]
        candidates = [base, base + "e", base[:-1] + "y" if base.endswith("i") else "",
                      base[:-1] if len(base) > 2 and base[-1] == base[-2] else ""]
        for candidate in candidates:
            if DIRECTION.get(candidate, ("",))[0] in _GRADED and candidate != word:
                return candidate
    return None
