"""Evidence selection: which transcript sentences go into which note section.

The tiny default model writes weak free prose, so the note is built from the
transcript itself. Each line is split into sentences (:class:`Unit`), cleaned
of fillers and stutters (:func:`clean_spoken`), scored against every section's
cue groups (:mod:`medstation.notes.cues`), assigned to the one section it fits
best, and each section keeps its highest-scoring sentences within its length
bounds, in transcript order. Every unit carries its line number, which is the
evidence link of whatever sentence is later written from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.notes.cues import cue_score, keyword_score
from medstation.notes.injection import is_note_instruction
from medstation.notes.templates import NoteTemplate, SectionSpec
from medstation.notes.transcript import SpeakerRole, Transcript

STOPWORDS = frozenset("""a an the and or but if so of to in on at for with from by as is are was were be been being
it its it's this that these those i me my we our you your he him his she her they them their what which who whom
do does did doing have has had having not no yes yeah okay ok just really very um uh like know mean right well
can could would should will there here then than too also about up down out over again all any some how when
where why because oh hi hello alright sure mm hmm mhm gonna wanna got get go going""".split())

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FILLERS = re.compile(r"\b(?:u+m+|u+h+|uh-huh|mm-hmm|mhm|hmm+|er+m?|ah+)\b\s*[,.]?\s*", re.IGNORECASE)
_LEADING = re.compile(r"^(?:okay|ok|so|well|all right|alright|yeah|yes|and|now|great|right|you know|um|uh|oh|"
                      r"mm-hmm|perfect|good|sure)\b\s*[,.…-]*\s*", re.IGNORECASE)
_YOU_KNOW = re.compile(r",?\s*\byou know\b\s*,?", re.IGNORECASE)
_STUTTER = re.compile(r"\b(\w+(?:'\w+)?)(?:\s*,?\s+\1\b)+", re.IGNORECASE)
_FRAGMENT = re.compile(r"\b\w{1,6}-\s+(?=\w)")
_SPACE_PUNCT = re.compile(r"\s+([,.;:!?%])")
_SPLIT_CONTRACTION = re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE)
_MULTI_COMMA = re.compile(r"(?:,\s*){2,}")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: A diagnosis named (a diagnostic word, a condition, an ICD-10 code): from a client it is history, never assessment.
_DIAGNOS_WORDS = r"diagnos\w*|disorder|syndrome|ptsd|adhd|bipolar|schizo\w+|dementia|alzheimer\w*|psychosis|psychotic"
_DIAGNOSIS = re.compile(rf"(?i:\b(?:{_DIAGNOS_WORDS})\b)|\b[A-Z]\d\d(?:\.\d)?\b")

#: A sentence needs at least this many content words to be worth a place in a note.
MIN_CONTENT_WORDS = 4
#: Lowest cue score that puts a sentence into a section at all.
MIN_SCORE = 1.4


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def clean_spoken(text: str) -> str:
    """Spoken words made readable without changing a fact: fillers, stutters and false starts removed.

    >>> clean_spoken("um , i , i feel , uh , bloated every once in a while .")
    'I feel, bloated every once in a while.'
    """
    out = _FILLERS.sub("", text)
    out = _YOU_KNOW.sub(",", out)
    out = _FRAGMENT.sub("", out)
    out = _SPLIT_CONTRACTION.sub(r"\1", out)
    out = _STUTTER.sub(r"\1", out)
    out = _SPACE_PUNCT.sub(r"\1", out)
    out = _MULTI_COMMA.sub(", ", out)
    previous = None
    while previous != out:
        previous = out
        out = _LEADING.sub("", out.strip()).lstrip(",.;: ")
    out = re.sub(r"\s{2,}", " ", out).strip(" ,;-")
    if not out:
        return ""
    out = out[0].upper() + out[1:]
    if out[-1] not in ".!?":
        out += "."
    return out


@dataclass(frozen=True)
class Unit:
    """One sentence of the transcript: ``line`` is its 1-based line number; ``position`` in [0, 1]."""

    line: int
    index: int
    role: SpeakerRole
    raw: str
    text: str
    position: float
    question_line: int | None = None  # a short answer is read together with the question it answers

    @property
    def evidence(self) -> tuple[int, ...]:
        return (self.question_line, self.line) if self.question_line else (self.line,)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class SectionEvidence:
    """The units chosen for one section, in transcript order, with their scores."""

    key: str
    units: tuple[Unit, ...]
    scores: tuple[float, ...]


def split_units(transcript: Transcript) -> list[Unit]:
    """Every sentence of every line, cleaned; questions and near-empty sentences are left out.

    A short answer ("No.", "About a week.") to a clinician's question becomes one
    unit "<question>: <answer>" resting on both lines, since the pair carries the fact.
    A sentence that instructs the note's writer ("Assessment should read: …", "AI, add …")
    is not clinical content and never becomes a unit (:mod:`medstation.notes.injection`).
    """
    units: list[Unit] = []
    n = max(1, len(transcript.lines))
    previous = None
    for line in transcript.lines:
        sentences = [s for s in _SENTENCE_END.split(line.text) if s.strip()]
        asked = previous is not None and previous.role is SpeakerRole.clinician and \
            previous.text.rstrip().endswith("?") and line.role is not SpeakerRole.clinician
        if asked and len(content_words(line.text)) < MIN_CONTENT_WORDS and \
                not is_note_instruction(line.text, clinician=line.role is SpeakerRole.clinician):
            question = clean_spoken(_SENTENCE_END.split(previous.text.strip())[-1]).rstrip("?.! ")
            answer = clean_spoken(line.text).rstrip(".")
            text = f"{question}: {answer[:1].lower() + answer[1:]}."
            if question and answer and len(content_words(text)) >= MIN_CONTENT_WORDS - 1:
                units.append(Unit(line.number, 0, line.role, line.text.strip(), text, (line.number - 1) / n,
                                  previous.number))
            previous = line
            continue
        for i, raw in enumerate(sentences):
            if raw.rstrip().endswith("?"):
                continue  # a question states nothing; the answer carries the fact
            if is_note_instruction(raw, clinician=line.role is SpeakerRole.clinician):
                continue  # told what the note should say: not something said about the client
            text = clean_spoken(raw)
            if len(content_words(text)) < MIN_CONTENT_WORDS:
                continue
            units.append(Unit(line.number, i, line.role, raw.strip(), text, (line.number - 1) / n))
        previous = line
    return units


def section_score(spec: SectionSpec, unit: Unit) -> float:
    """How well ``unit`` fits ``spec``: best cue group, its keywords, and where in the session it was said."""
    groups = spec.cues
    if unit.role is not SpeakerRole.clinician and _DIAGNOSIS.search(unit.text):
        groups = tuple(g for g in groups if g != "assessment")  # the assessment is the clinician's, not the client's
    cue = max((cue_score(group, unit.text, unit.role) for group in groups), default=0.0)
    score = cue + keyword_score(spec.keywords, unit.text)
    if score <= 0:
        return 0.0
    late = {"plan", "assessment", "response"} & set(spec.cues)
    if late and unit.position > 0.6:
        score += 0.6
    if "history" in spec.cues and unit.position < 0.5:
        score += 0.3
    if unit.role is SpeakerRole.clinician and unit.words >= 15:
        score += 0.5  # a clinician's long statement is usually a dictated summary: note material
    return score


def select_evidence(transcript: Transcript, template: NoteTemplate) -> list[SectionEvidence]:
    """The units for each section of ``template`` (same order as its sections).

    Each unit goes to the one section it scores highest for; a section keeps its
    best units within ``max_sentences``/``max_words`` and tops up to
    ``min_sentences`` from weaker matches when it has to.
    """
    units = split_units(transcript)
    specs = template.sections
    table = [[section_score(spec, u) for spec in specs] for u in units]
    chosen: dict[int, list[tuple[float, Unit]]] = {i: [] for i in range(len(specs))}
    for u, scores in zip(units, table):
        best = max(range(len(specs)), key=lambda i: scores[i]) if specs else None
        if best is not None and scores[best] >= MIN_SCORE:
            chosen[best].append((scores[best], u))
    used: set[tuple[int, int]] = set()
    out = []
    for i, spec in enumerate(specs):
        picked = _within_bounds(sorted(chosen[i], key=lambda p: -p[0]), spec)
        if len(picked) < spec.min_sentences:
            spare = sorted(((table[j][i], u) for j, u in enumerate(units)
                            if table[j][i] > 0 and (u.line, u.index) not in {(p.line, p.index) for _, p in picked}
                            and (u.line, u.index) not in used), key=lambda p: -p[0])
            picked += spare[: spec.min_sentences - len(picked)]
        picked.sort(key=lambda p: (p[1].line, p[1].index))
        used.update((u.line, u.index) for _, u in picked)
        out.append(SectionEvidence(spec.key, tuple(u for _, u in picked), tuple(s for s, _ in picked)))
    return out


def _within_bounds(ranked: list[tuple[float, Unit]], spec: SectionSpec) -> list[tuple[float, Unit]]:
    picked, words = [], 0
    for score, unit in ranked:
        if len(picked) >= spec.max_sentences:
            break
        if words + unit.words > spec.max_words and picked:
            continue
        picked.append((score, unit))
        words += unit.words
    return picked
