"""Words that carry a sentence's polarity, read deterministically: negation and its scope, direction,
quantifiers, modality, numbers with units, and the people a sentence is about.

:func:`analyse` turns a text into :class:`Token` s (normalised stem plus what the token *does*) grouped in
clauses. :mod:`medstation.llm.meaning` compares two analyses with these features; the support check of the
chat (:mod:`medstation.llm.support`) and the note-rewrite check (:mod:`medstation.notes.rewrite`) both use it,
so the polarity rules live in one place.

Why rules and not a model: no entailment (NLI) or cross-encoder model is installed in the environment, and
models are not downloaded at run time. The rules are written for meaning-bearing *word classes*, not for
the examples of the evaluation set:

* negation cues (``not``, ``no``, ``never``, ``n't``, ``without``, ``denies``, ``stopped``, ``no longer``,
  ``avoid``, ``unable`` ...) negate the words after them up to the clause's end (a determiner-like cue such
  as ``no``/``without`` stops at the next auxiliary: "children with no fever | should be treated");
* direction words map to a group and a value (``after`` -> time/after, ``lowers`` -> amount/down);
* quantifiers and frequency adverbs map to a class (all, most, often, some, few, none);
* modal words map to a class (obligation, advice, possibility, certainty);
* a number keeps the unit word after it (``500 mg``, ``8 hours``; number words are read as digits);
* role words name who a clause is about (men, women, children, adults, mother, partner ...; with
  ``first_person=True`` the words I/me/myself are the client).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

_ABBREVIATIONS = re.compile(r"\b(a\.m\.|p\.m\.|dr\.|mr\.|mrs\.|ms\.|e\.g\.|i\.e\.|vs\.|approx\.|no\.(?=\s*\d))",
                            re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+(?:'[A-Za-z]+)*|%|[.;:,!?()]|\n")
_CONTRACTIONS = {"can't": ["can", "not"], "cannot": ["can", "not"], "won't": ["will", "not"],
                 "shan't": ["shall", "not"], "ain't": ["is", "not"]}
_SUFFIX_SPLIT = {"n't": ["not"], "'m": ["am"], "'re": ["are"], "'ve": ["have"], "'ll": ["will"], "'d": ["would"],
                 "'s": []}
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
ones someone something anything everything per via within into onto upon whose whom include includes including
called known develop develops developed developing experience experiences experienced occur occurs occurred
occurring happen happens happened likely tend tends use uses used using located situated i me my mine myself
us herself himself themselves itself yourself mostly even actually basically literally pretty quite rather
somewhat maybe perhaps probably just now still anymore""".split())
#: Words that name what a clause does not say, with how far their scope runs ("np": to the next auxiliary).
NEGATION_CUES = {**{w: "clause" for w in """not never nor neither deny denies denied denying stop stops stopped
stopping unlikely quit quits quitting discontinue discontinued discontinues ceased cease avoid avoids avoided
avoiding unable fail fails failed
refuse refuses refused nobody nothing nowhere""".split()},
                 **{w: "np" for w in "no none without lack lacks lacking absent absence free".split()}}
_NP_SCOPE_END = frozenset("""is are was were be been being am can could may might must should will would shall do does
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
}.items():
    for _value, _words in _values.items():
        DIRECTION.update({w: (_group, _value) for w in _words.split()})
#: Quantifiers and frequency adverbs -> class. ``most`` before an adjective is a superlative (direction).
QUANTIFIERS = {**{w: "all" for w in "all every always each invariably entire entirely only whole universally".split()},
               **{w: "most" for w in """most usually mostly majority generally typically mainly largely
               predominantly""".split()},
               **{w: "often" for w in "often many regularly frequently commonly".split()},
               **{w: "some" for w in "some sometimes occasionally several".split()},
               **{w: "few" for w in "few rarely seldom infrequently minority hardly barely".split()}}
MODALS = {**{w: "obligation" for w in
             "must required require requires need needs necessary essential mandatory".split()},
          **{w: "advice" for w in "should ought recommended recommend recommends advised advise advisable".split()},
          **{w: "possibility" for w in "may might can could possible possibly potential potentially able".split()},
          **{w: "certainty" for w in "will definitely certainly certain inevitably surely".split()}}
_ORDINALS = frozenset({"first", "second", "third", "last"})
#: Time words: "last week" is a date, not "the last" of a series.
_TIME_WORDS = frozenset("""week weeks month months year years day days night nights time times weekend visit session
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
_IRREGULAR = {"children": "child", "men": "man", "women": "woman", "took": "take", "taken": "take", "went": "go",
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
              "individuals": "person", "persons": "person"}
_SUFFIXES = (("ations", ""), ("ation", ""), ("ments", ""), ("ment", ""), ("ness", ""), ("ings", ""), ("ing", ""),
             ("ied", "y"), ("ies", "y"), ("edly", ""), ("ed", ""), ("ly", ""), ("sses", "ss"), ("xes", "x"),
             ("ches", "ch"), ("shes", "sh"), ("s", ""))
_CLAUSE_WORDS = frozenset("""but although though whereas while because unless if when whenever which who where except
however yet since until""".split())
_COMMA_OPENS = frozenset("""and or but the a an this that these those it they he she i we you there so then however
especially including such like""".split())
_AND_OPENS_CLAUSE = frozenset("""i you he she it we they this that these those there is are was were can may might must
should will would could do does did has have had also then""".split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, deterministic stem: ``treated``/``treatment``/``treats`` -> ``treat``; ``stopped`` -> ``stop``."""
    word = word.lower()
    if word[:1].isdigit():
        return word.replace(",", "")
    if word in _IRREGULAR:
        mapped = _IRREGULAR[word]
        if mapped != word:
            return stem(mapped)
        suffixes: tuple = ()
    else:
        suffixes = _SUFFIXES
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


@dataclass
class Token:
    """One word of an analysed text. ``stem`` is what coverage compares; the other fields say what it does."""

    text: str
    stem: str
    position: int
    clause: int
    capitalised: bool = False
    content: bool = False
    cue: str = ""                      # "clause" / "np" for a negation cue
    negated: bool = False              # inside the scope of an odd number of negation cues
    direction: tuple[str, str] | None = None
    quantifier: str = ""
    modal: str = ""
    role: str = ""
    number: float | None = None
    unit: str = ""
    counted: tuple[str, ...] = ()      # a number's next content words ("two group sessions": group, session)


@dataclass
class Analysis:
    """``tokens`` of a text (punctuation removed) and ``n_clauses``; ``title_stems``: a passage title's words."""

    text: str
    tokens: list[Token]
    n_clauses: int
    title_stems: frozenset[str] = field(default_factory=frozenset)
    _vocabulary: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def clause(self, index: int) -> list[Token]:
        return [t for t in self.tokens if t.clause == index]

    def content_stems(self) -> set[str]:
        return {t.stem for t in self.tokens if t.content}

    def vocabulary(self) -> frozenset[str]:
        """Every stem and role of the text plus the title's stems (computed once: passages are checked often)."""
        if self._vocabulary is None:
            self._vocabulary = frozenset({t.role or t.stem for t in self.tokens} | {t.stem for t in self.tokens}
                                         | self.title_stems)
        return self._vocabulary


def _raw_tokens(text: str) -> list[tuple[str, bool]]:
    """(lower-case word or punctuation, was capitalised) with contractions split."""
    text = _ABBREVIATIONS.sub(lambda m: m.group().replace(".", ""), text)
    out: list[tuple[str, bool]] = []
    for raw in _TOKEN.findall(text):
        low = raw.lower()
        cap = raw[:1].isupper()
        if low in _CONTRACTIONS:
            out += [(w, cap and i == 0) for i, w in enumerate(_CONTRACTIONS[low])]
            continue
        for suffix, words in _SUFFIX_SPLIT.items():
            if low.endswith(suffix) and len(low) > len(suffix):
                head = low[: -len(suffix)]
                head = {"ca": "can", "wo": "will", "sha": "shall"}.get(head, head) if suffix == "n't" else head
                out.append((head, cap))
                out += [(w, False) for w in words]
                break
        else:
            out.append((low, cap))
    return out


def _number(word: str) -> float | None:
    if word[0].isdigit():
        try:
            return float(word.replace(",", ""))
        except ValueError:
            return None
    return NUMBER_WORDS.get(word)


def title_stems(title: str) -> frozenset[str]:
    """Content stems of a passage title (they count for coverage in every unit of the passage)."""
    return frozenset(t.stem for t in analyse(title).tokens if t.content) if title else frozenset()


def join(first: Analysis, second: Analysis) -> Analysis:
    """Two adjacent sentences as one analysis (clauses never span a sentence end, so nothing is re-read)."""
    shift, clauses = len(first.tokens), first.n_clauses
    tokens = first.tokens + [replace(t, position=t.position + shift, clause=t.clause + clauses) for t in second.tokens]
    return Analysis(f"{first.text} {second.text}", tokens, clauses + second.n_clauses, first.title_stems)


def analyse(text: str, *, first_person: bool = False, title: str = "",
            titles: frozenset[str] | None = None) -> Analysis:
    """Tokens of ``text`` with their polarity features (see the module docstring)."""
    tokens: list[Token] = []
    clause, previous, sentence_start = 0, "", True
    raw = _raw_tokens(text)
    for i, (word, cap) in enumerate(raw):
        nxt = raw[i + 1][0] if i + 1 < len(raw) else ""
        # a clause ends at . ; : ! ? ( ) and a line end, and at a comma or clause word only once it has said
        # something: "Usually, a tick ..." and a list comma ("children, adolescents and adults") do not split
        said = any(t.clause == clause and (t.content or t.number is not None) for t in tokens[-12:])
        if word in "()" or (word == "," and nxt not in _COMMA_OPENS and nxt not in _CLAUSE_WORDS):
            continue  # a parenthesis stays inside its clause
        if word in ".;:!?\n" or word == ",":
            if tokens and tokens[-1].clause == clause and (word != "," or said):
                clause += 1
            if word != ",":
                sentence_start = True
            previous = word
            continue
        if (word in _CLAUSE_WORDS or (word in ("and", "or", "so") and nxt in _AND_OPENS_CLAUSE)) and said:
            clause += 1
        token = Token(word, stem(word), len(tokens), clause, capitalised=cap and previous not in ("", ".", "\n"))
        _classify(token, previous, nxt, tuple(t.text for t in tokens[-2:]))
        if sentence_start and (word in IMPERATIVES or (word == "do" and nxt == "not")):
            token.modal = "advice"  # "Do not give ...", "Take the tablet ...": an instruction, like "should"
        sentence_start = False
        tokens.append(token)
        previous = word
    _attach_units(tokens)
    _negation_scopes(tokens)
    n_clauses = (tokens[-1].clause + 1) if tokens else 1
    analysis = Analysis(text, tokens, n_clauses, titles if titles is not None else title_stems(title))
    if first_person:
        for t in tokens:
            if t.text in FIRST_PERSON:
                t.role, t.content = "client", False
    return analysis


_POSSIBLE = frozenset({"may", "might", "can", "could"})


def _classify(token: Token, previous: str, nxt: str, before: tuple[str, ...] = ()) -> None:
    word = token.text
    value = _number(word)
    if value is not None and not (word == "one" and nxt in ("of", "who", "that")):
        token.number = value
        token.stem = f"{value:g}"
        return
    if word == "no" and nxt in ("longer", "more"):
        token.cue = "clause"
        return
    if previous == "no" and word in ("longer", "more"):
        return  # part of the cue "no longer"
    if word in ("at",) and nxt in ("least", "most"):
        return
    if previous == "at" and word in ("least", "most"):
        token.direction = ("bound", "lower" if word == "least" else "upper")
        return
    if word in NEGATION_CUES and not (word == "free" and nxt != "of"):
        token.cue = NEGATION_CUES[word]
        return
    if word == "most" and (previous == "the" or nxt in DIRECTION or nxt.endswith(("ive", "ous", "ful", "able",
                                                                                   "ant", "ent", "ly", "al"))):
        token.direction = ("amount", "up")
        return
    if word == "least" and previous != "at":
        token.direction = ("amount", "down")
        return
    if word in ROLES and not (ROLES[word] in _ORDINALS and nxt in _TIME_WORDS):
        token.role = ROLES[word]
        token.content = True
        return
    if word in QUANTIFIERS and not (word == "few" and previous == "a"):
        token.quantifier = QUANTIFIERS[word]
        return
    if word in MODALS:
        token.modal = MODALS[word]
        if token.modal == "obligation" and (previous in _POSSIBLE or (previous == "be" and _POSSIBLE & set(before))):
            token.modal = "possibility"  # "may need", "may be necessary": a possibility, not an obligation
        return
    if word in DIRECTION:
        token.direction = DIRECTION[word]
        return
    if word not in STOP and word not in _CLAUSE_WORDS and (len(word) >= 2 or word.isdigit()):
        token.content = True


_UNIT_NAMES = {"milligram": "mg", "microgram": "mcg", "gram": "g", "kilogram": "kg", "pound": "lb", "hr": "hour",
               "min": "minute", "percent": "%", "liter": "l", "milliliter": "ml"}


def _unit_of(token: Token) -> str:
    """The unit or counted thing a number is followed by: a unit word or a content word (``2 sickle cell genes``)."""
    name = stem(token.text)
    if name in UNITS or token.text == "%":
        return _UNIT_NAMES.get(name, name)
    return token.stem if token.content or token.role else ""


def _attach_units(tokens: list[Token]) -> None:
    """``500 mg`` -> number 500 with unit mg; ``two sickle cell genes`` -> 2 of ``sickle``; in ``4 to 6 years``
    both numbers get ``year``."""
    for i, t in enumerate(tokens):
        if t.number is None:
            continue
        for j in (i + 1, i + 2):
            if j >= len(tokens) or tokens[j].clause != t.clause:
                break
            if tokens[j].text in ("a", "of", "per", "more", "or", "less"):
                continue
            t.unit = _unit_of(tokens[j])
            break
        t.counted = tuple(u.stem for u in tokens[i + 1:i + 4] if u.clause == t.clause and (u.content or u.role))[:2]
    for i, t in enumerate(tokens):  # a range takes the unit of its second number
        if t.number is not None and i + 2 < len(tokens) and tokens[i + 1].text in ("to", "and", "or") and \
                tokens[i + 2].number is not None and tokens[i + 2].unit and t.unit in ("", tokens[i + 1].stem):
            t.unit = tokens[i + 2].unit


def _negation_scopes(tokens: list[Token]) -> None:
    """Mark every token inside the scope of an odd number of negation cues."""
    for i, t in enumerate(tokens):
        if not t.cue or (t.text == "without" and i >= 2 and tokens[i - 1].text == "or" and
                         tokens[i - 2].text == "with"):
            continue  # "with or without food" says nothing negative
        for u in tokens[i + 1:]:
            if u.clause != t.clause or (t.cue == "np" and u.text in _NP_SCOPE_END):
                break
            u.negated = not u.negated


_HEAD_SKIP = frozenset("""a an the be been being am is are was were have has had having do does did to really just very
even ever yet also get got that this it i you he she they we me him her them us my his their our your anymore any
at all much so too only currently longer more or and nor but of in on for with by as from""".split())


def scope_head(analysis: Analysis, cue: Token) -> Token | None:
    """The word a negation cue is about: the first meaningful word after it in its clause (content, direction,
    modal, role or number), else the first word that is not a function word."""
    scope = [u for u in analysis.tokens[cue.position + 1:] if u.clause == cue.clause]
    candidates = [u for u in scope if u.text not in _HEAD_SKIP and not u.cue and not u.quantifier]
    meaningful = [u for u in candidates if u.content or u.direction or u.modal or u.role or u.number is not None]
    # the first meaningful word, unless a light verb comes first and is all there is ("can't go on")
    return (meaningful or candidates or [None])[0]
