"""The invented-fact check: every number, dose, medication, date or name in a draft must occur in the transcript.

Deterministic and independent of the model. Numbers compare by value, so the
transcript's "five weeks" supports a draft's "5 weeks"; doses compare value
and unit ("20 milligrams" supports "20 mg"). Medications are recognised from
a lexicon plus drug-name suffixes; names are capitalised words that are not
ordinary note vocabulary. Anything the transcript does not contain is a
:class:`FactFlag` with its character span in the sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.notes.evidence import STOPWORDS

_ONES = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                     "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_NUMBER_WORD = re.compile(r"\b(?:(?:%s)(?:[- ](?:%s))?|(?:%s))(?:\s+hundred)?\b" % (
    "|".join(_TENS), "|".join(list(_ONES)[1:10]), "|".join(_ONES)), re.IGNORECASE)
_DIGITS = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_UNITS = {"mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg",
          "g": "g", "gram": "g", "grams": "g", "ml": "ml", "milliliter": "ml", "milliliters": "ml", "cc": "ml",
          "units": "unit", "unit": "unit", "iu": "unit", "mmol": "mmol", "meq": "meq"}
_DOSE = re.compile(r"(\d+(?:\.\d+)?)\s*(%s)\b" % "|".join(sorted(_UNITS, key=len, reverse=True)), re.IGNORECASE)
_MONTHS = ("january february march april may june july august september october november december "
           "monday tuesday wednesday thursday friday saturday sunday").split()
_DATE = re.compile(r"\b(?:%s)\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b" % "|".join(m for m in _MONTHS if m != "may"),
                   re.IGNORECASE)
_MED_SUFFIX = re.compile(r"\b[a-z]{3,}(?:pril|olol|sartan|statin|azole|mycin|cillin|cycline|oxetine|aline|azepam|"
                         r"azolam|triptyline|pramine|idone|apine|etine|afil|prazole|tidine|dronate|gliptin|flozin|"
                         r"glitazone|formin|lukast|terol|sone|olone|profen|coxib|barbital|codone|morphone|caine|"
                         r"vir|mab|nib|parin|xaban|gatran)\b", re.IGNORECASE)
MEDICATIONS = frozenset("""aspirin tylenol acetaminophen ibuprofen advil motrin aleve naproxen lasix furosemide
lisinopril metformin insulin prednisone zoloft sertraline prozac fluoxetine lexapro escitalopram celexa citalopram
paxil paroxetine wellbutrin bupropion effexor venlafaxine cymbalta duloxetine xanax alprazolam ativan lorazepam
klonopin clonazepam valium diazepam ambien zolpidem trazodone seroquel quetiapine abilify aripiprazole risperdal
risperidone zyprexa olanzapine lithium lamictal lamotrigine depakote adderall ritalin methylphenidate vyvanse
gabapentin neurontin lyrica pregabalin tramadol oxycodone hydrocodone percocet vicodin morphine fentanyl suboxone
buprenorphine methadone naltrexone narcan naloxone antabuse disulfiram norvasc amlodipine toprol metoprolol
atenolol coreg carvedilol hydrochlorothiazide hctz losartan atorvastatin lipitor simvastatin crestor rosuvastatin
plavix clopidogrel eliquis apixaban xarelto coumadin warfarin synthroid levothyroxine omeprazole prilosec
protonix pantoprazole nexium zantac pepcid albuterol flonase singulair montelukast zyrtec claritin benadryl
amoxicillin augmentin azithromycin zithromax keflex cephalexin cipro ciprofloxacin doxycycline bactrim flexeril
cyclobenzaprine mobic meloxicam celebrex toradol jardiance ozempic trulicity victoza glipizide januvia
prazosin propranolol hydroxyzine buspirone buspar mirtazapine remeron nortriptyline amitriptyline""".split())
#: Capitalised words a note uses without them being names.
_NOTE_WORDS = frozenset("""patient client clinician therapist doctor provider he she they his her their the this
that it reports reported states stated denies denied endorses notes noted describes described discussed plan
assessment subjective objective data behavior intervention response mr mrs ms dr today currently continue
follow risk documented extractive quote transcript session line lines no yes mood affect history""".split())
_LINE_REF = re.compile(r"\(lines? \d+(?:, \d+)*\)")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


@dataclass(frozen=True)
class FactFlag:
    """Text in a draft sentence the transcript does not support. ``start``/``end``: characters in the sentence."""

    kind: str  # number | dose | medication | date | name
    text: str
    start: int
    end: int


def _number_value(word: str) -> float | None:
    parts = re.split(r"[- ]+", word.lower())
    total, hundred = 0, False
    for part in parts:
        if part in _ONES:
            total += _ONES[part]
        elif part in _TENS:
            total += _TENS[part]
        elif part == "hundred":
            hundred = True
        else:
            return None
    return float(total * 100 if hundred else total)


def numbers_in(text: str) -> set[float]:
    values = {float(m.group().replace(",", "")) for m in _DIGITS.finditer(text)}
    values |= {v for m in _NUMBER_WORD.finditer(text) if (v := _number_value(m.group())) is not None}
    return values


def doses_in(text: str) -> set[tuple[float, str]]:
    doses = {(float(m.group(1)), _UNITS[m.group(2).lower()]) for m in _DOSE.finditer(text)}
    for m in re.finditer(r"(%s)\s+(%s)\b" % (_NUMBER_WORD.pattern, "|".join(_UNITS)), text, re.IGNORECASE):
        value = _number_value(m.group(1))
        if value is not None:
            doses.add((value, _UNITS[m.group(m.lastindex).lower()]))
    return doses


def _sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \"'(")
    return not before or before[-1] in ".!?:\n"


class TranscriptFacts:
    """What the transcript contains, precomputed once per draft."""

    def __init__(self, transcript_text: str) -> None:
        self.text = transcript_text.lower()
        self.words = set(re.findall(r"[a-z0-9]+", self.text))
        self.numbers = numbers_in(transcript_text)
        self.doses = doses_in(transcript_text)

    def check(self, sentence: str) -> list[FactFlag]:
        """Every unsupported number, dose, medication, date and name in ``sentence``, left to right."""
        # "(line 12)" references are evidence links, not facts: blank them out, keeping offsets
        sentence = _LINE_REF.sub(lambda m: " " * len(m.group()), sentence)
        flags: list[FactFlag] = []
        dose_spans = []
        for m in _DOSE.finditer(sentence):
            dose_spans.append(m.span())
            if (float(m.group(1)), _UNITS[m.group(2).lower()]) not in self.doses:
                flags.append(FactFlag("dose", m.group(), *m.span()))
        for m in _DIGITS.finditer(sentence):
            inside = any(a <= m.start() < b for a, b in dose_spans)
            if not inside and float(m.group().replace(",", "")) not in self.numbers:
                flags.append(FactFlag("number", m.group(), *m.span()))
        for m in _NUMBER_WORD.finditer(sentence):
            value = _number_value(m.group())
            if value is not None and value not in self.numbers:
                flags.append(FactFlag("number", m.group(), *m.span()))
        for m in re.finditer(r"[A-Za-z]+", sentence):
            word = m.group().lower()
            if (word in MEDICATIONS or _MED_SUFFIX.fullmatch(word)) and word not in self.words:
                flags.append(FactFlag("medication", m.group(), *m.span()))
        for m in _DATE.finditer(sentence):
            if m.group().lower() not in self.text:
                flags.append(FactFlag("date", m.group(), *m.span()))
        flagged = {(f.start, f.end) for f in flags}
        for m in _CAPITALISED.finditer(sentence):
            word = m.group().lower()
            if word in self.words or word in STOPWORDS or word in _NOTE_WORDS or m.span() in flagged:
                continue
            if word in _MONTHS or word in MEDICATIONS or _sentence_start(sentence, m.start()):
                continue  # a capital after a full stop is grammar, not a name
            flags.append(FactFlag("name", m.group(), *m.span()))
        return sorted(flags, key=lambda f: f.start)


def check_invented_facts(transcript_text: str, sentence: str) -> list[FactFlag]:
    """One-off form of :meth:`TranscriptFacts.check`."""
    return TranscriptFacts(transcript_text).check(sentence)


def is_medication(word: str) -> bool:
    """True for a medication name (lexicon or drug-name suffix), e.g. "sertraline", "Lexapro"."""
    low = word.lower()
    return low in MEDICATIONS or bool(_MED_SUFFIX.fullmatch(low))
