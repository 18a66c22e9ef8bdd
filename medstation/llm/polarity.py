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

The word lists and the stemmer are in :mod:`medstation.llm.polarity_words`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from medstation.llm.polarity_words import (
    AND_OPENS_CLAUSE,
    BOUND_WORDING,
    CLAUSE_WORDS,
    COMMA_OPENS,
    comparative_base,
    DIRECTION,
    FIRST_PERSON,
    IMPERATIVES,
    JOINING_WORDING,
    MODALS,
    NEGATION_CUES,
    NUMBER_WORDS,
    ORDINALS,
    PERIOD_ADVERBS,
    QUANTIFIERS,
    ROLES,
    STOP,
    THAN_BOUND,
    TIME_WORDS,
    UNITS,
    stem,
)
from medstation.llm.polarity_scope import negation_scopes, scope_head  # noqa: F401  (scope_head: this API)

_ABBREVIATIONS = re.compile(r"\b(a\.m\.|p\.m\.|dr\.|mr\.|mrs\.|ms\.|e\.g\.|i\.e\.|vs\.|approx\.|no\.(?=\s*\d))",
                            re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+(?:'[A-Za-z]+)*|%|[.;:,!?()]|\n")
_CONTRACTIONS = {"can't": ["can", "not"], "cannot": ["can", "not"], "won't": ["will", "not"],
                 "shan't": ["shall", "not"], "ain't": ["is", "not"]}
#: Contractions written without their apostrophe, as in MedQuAD ("dont", "cant", "youre"): "cant" is "can not",
#: never a word of its own here. Ambiguous ones ("were", "well", "its", "lets", "hes") are left alone.
_CONTRACTIONS.update({w: [w[:-2], "not"] for w in """dont doesnt didnt isnt arent wasnt werent havent hasnt hadnt
shouldnt couldnt wouldnt mustnt neednt""".split()})
_CONTRACTIONS.update({"cant": ["can", "not"], "wont": ["will", "not"], "youre": ["you", "are"],
                      "youll": ["you", "will"], "youve": ["you", "have"], "youd": ["you", "would"],
                      "theyre": ["they", "are"], "theyll": ["they", "will"], "theyve": ["they", "have"],
                      "thats": ["that", "is"], "theres": ["there", "is"], "whats": ["what", "is"], "ive": ["i", "have"]})
_SUFFIX_SPLIT = {"n't": ["not"], "'m": ["am"], "'re": ["are"], "'ve": ["have"], "'ll": ["will"], "'d": ["would"],
                 "'s": []}


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
    frame: bool = False                # in a leading frame closed by a comma ("If you do not ..., ...")


@dataclass
class Analysis:
    """``tokens`` of a text (punctuation removed) and ``n_clauses``; ``title_stems``: a passage title's words;
    ``antecedent``: for a passage sentence opening with "It"/"They", the stems of what that pronoun names
    (the previous sentence's subject); ``topic``: what the passage is about (its first sentence's subject, said
    of every later sentence: "Allopurinol prevents future attacks" in a passage on gout). All three count as words
    of the text for coverage. ``subjects``: the stems of a passage unit's sentence subjects."""

    text: str
    tokens: list[Token]
    n_clauses: int
    title_stems: frozenset[str] = field(default_factory=frozenset)
    antecedent: frozenset[str] = field(default_factory=frozenset)
    topic: frozenset[str] = field(default_factory=frozenset)
    subjects: frozenset[str] = field(default_factory=frozenset)
    _vocabulary: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def clause(self, index: int) -> list[Token]:
        return [t for t in self.tokens if t.clause == index]

    def content_stems(self) -> set[str]:
        return {t.stem for t in self.tokens if t.content}

    def vocabulary(self) -> frozenset[str]:
        """Every stem and role of the text plus the title's stems (computed once: passages are checked often)."""
        if self._vocabulary is None:
            self._vocabulary = frozenset({t.role or t.stem for t in self.tokens} | {t.stem for t in self.tokens}
                                         | self.title_stems | self.antecedent | self.topic)
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
    return _one_wording(out)


def _one_wording(tokens: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(tokens):
        three = tuple(w for w, _ in tokens[i:i + 3])
        if three in BOUND_WORDING:
            out += [(w, tokens[i][1] and k == 0) for k, w in enumerate(BOUND_WORDING[three])]
            i += 3
            continue
        two = three[:2]
        if two[1:] == ("than",) and len(three) == 3 and two[0] in THAN_BOUND and _number(three[2]) is not None:
            out.append((THAN_BOUND[two[0]], tokens[i][1]))  # "smaller than 5 mm" says what "under 5 mm" says
            i += 2
            continue
        if two in JOINING_WORDING and not (two == ("as", "well") and three[2:] != ("as",)):
            out += [(w, tokens[i][1] and k == 0) for k, w in enumerate(JOINING_WORDING[two])]
            i += 3 if two == ("as", "well") else 2
            continue
        word, cap = tokens[i]
        if word in PERIOD_ADVERBS and out and (out[-1][0] in ("once", "twice", "times") or
                                                 _number(out[-1][0]) is not None):
            out += [("a", False), (PERIOD_ADVERBS[word], False)]  # "twice daily" -> "twice a day"
            i += 1
            continue
        if word in PERIOD_ADVERBS and not (out and out[-1][0] in ("every", "each", "a", "per")):
            out += [("every", cap), (PERIOD_ADVERBS[word], False)]  # "taken daily" says "taken every day"
            i += 1
            continue
        out.append((word, cap))
        i += 1
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
    return Analysis(f"{first.text} {second.text}", tokens, clauses + second.n_clauses, first.title_stems,
                    first.antecedent, first.topic | second.topic, first.subjects | second.subjects)


def analyse(text: str, *, first_person: bool = False, title: str = "",
            titles: frozenset[str] | None = None) -> Analysis:
    """Tokens of ``text`` with their polarity features (see the module docstring)."""
    tokens: list[Token] = []
    clause, previous, sentence_start, framed, concessive = 0, "", True, False, False
    raw = _raw_tokens(text)
    for i, (word, cap) in enumerate(raw):
        nxt = raw[i + 1][0] if i + 1 < len(raw) else ""
        # a clause ends at . ; : ! ? ( ) and a line end, and at a comma or clause word only once it has said
        # something: "Usually, a tick ..." and a list comma ("children, adolescents and adults") do not split
        said = any(t.clause == clause and (t.content or t.number is not None or t.direction) for t in tokens[-12:])
        if word == "," and concessive and said:
            clause, concessive, framed, sentence_start, previous = clause + 1, False, False, True, word
            continue  # "Although most have a rash, | some never do": two statements, as after "but"
        if word == "," and framed:
            # "For children, the dose is ...", "For children under 3, use only a smear": a leading frame stays in the
            # clause it opens (its people are that clause's), and an instruction may follow it
            sentence_start, framed, previous = True, False, word
            continue
        if word in "()" or (word == "," and nxt not in COMMA_OPENS and nxt not in CLAUSE_WORDS):
            continue  # a parenthesis stays inside its clause
        if word in ".;:!?\n" or word == ",":
            if tokens and tokens[-1].clause == clause and (word != "," or said):
                clause += 1
            if word != ",":
                sentence_start = True
            previous = word
            continue
        if (word in CLAUSE_WORDS or (word in ("and", "or", "so") and nxt in AND_OPENS_CLAUSE)) and said:
            clause += 1
        token = Token(word, stem(word), len(tokens), clause, capitalised=cap and previous not in ("", ".", "\n"))
        _classify(token, previous, nxt, tuple(t.text for t in tokens[-2:]))
        if word == "both" and "and" in [w for w, _ in raw[i + 2:i + 6]]:
            token.content = False  # "both boys and girls" says what "boys and girls" says
        if sentence_start and (word in IMPERATIVES or (word == "do" and nxt == "not")):
            token.modal = "advice"  # "Do not give ...", "Take the tablet ...": an instruction, like "should"
        framed = (word in _FRAME_OPENERS) if previous in ("", ".", ";", ":", "!", "?", "\n") else framed
        concessive = (word in _CONCESSIVE) if previous in ("", ".", ";", ":", "!", "?", "\n") else concessive
        token.frame = framed
        sentence_start = False
        tokens.append(token)
        previous = word
    _attach_units(tokens)
    negation_scopes(tokens)
    n_clauses = (tokens[-1].clause + 1) if tokens else 1
    analysis = Analysis(text, tokens, n_clauses, titles if titles is not None else title_stems(title))
    if first_person:
        for t in tokens:
            if t.text in FIRST_PERSON:
                t.role, t.content = "client", False
    return analysis


_POSSIBLE = frozenset({"may", "might", "can", "could"})
#: Words that open a frame before a sentence's main clause ("For children under 3, ...", "After surgery, ...").
_FRAME_OPENERS = frozenset("for in from after before during if when once until while".split())
_CONCESSIVE = frozenset("although though whereas while".split())
_OR_BOUND = {**dict.fromkeys("more greater higher longer older above over".split(), "lower"),
             **dict.fromkeys("less fewer lower shorter younger below under".split(), "upper")}
DIRECTION_STEMS = {}
for _word, _value in DIRECTION.items():
    DIRECTION_STEMS.setdefault(stem(_word), _value)


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
    if previous == "or" and len(before) == 2 and _number(before[0]) is not None and word in _OR_BOUND:
        token.direction = ("bound", _OR_BOUND[word])  # "7 or more hours" says what "at least 7 hours" says
        return
    if word == "often" and previous in ("more", "less", "as", "so", "how"):
        return  # "more often than": a comparison (the "more" carries it), not the quantifier "often"
    if len(word) == 1 and token.capitalised and word != "i":
        token.content = True  # "hepatitis B", "vitamin D", "type A": a letter that names something
        return
    if word in NEGATION_CUES and not (word in ("free", "discontinuation", "cessation") and nxt != "of"):
        token.cue = NEGATION_CUES[word]
        return
    if word == "most" and (previous == "the" or nxt in DIRECTION or nxt.endswith(("ive", "ous", "ful", "able",
                                                                                   "ant", "ent", "ly", "al"))):
        token.direction = ("amount", "up")
        return
    if word == "least" and previous != "at":
        token.direction = ("amount", "down")
        return
    if word in ROLES and not (ROLES[word] in ORDINALS and nxt in TIME_WORDS):
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
    if word == "over" and (nxt in TIME_WORDS or nxt in ("several", "time", "many", "few")):
        return  # "over several weeks": a span of time, not "more than"
    if word in DIRECTION or comparative_base(word):
        token.direction = DIRECTION.get(word) or DIRECTION[comparative_base(word)]
        return
    if word.endswith(("ed", "ing", "s")) and len(token.stem) >= 5 and DIRECTION_STEMS.get(token.stem):
        token.direction = DIRECTION_STEMS[token.stem]  # "triggered", "lowering": inflections of listed words
        return
    if word not in STOP and word not in CLAUSE_WORDS and (len(word) >= 2 or word.isdigit()):
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
