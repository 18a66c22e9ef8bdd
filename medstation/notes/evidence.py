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
from medstation.notes.topics import route, topics_of, uncovered
from medstation.notes.transcript import SpeakerRole, Transcript, split_sentences
from medstation.notes.voice import role_noun

STOPWORDS = frozenset("""a an the and or but if so of to in on at for with from by as is are was were be been being
it its it's this that these those i me my we our you your he him his she her they them their what which who whom
do does did doing have has had having not no yes yeah okay ok just really very um uh like know mean right well
can could would should will there here then than too also about up down out over again all any some how when
where why because oh hi hello alright sure mm hmm mhm gonna wanna got get go going""".split())

_FILLERS = re.compile(r"\b(?:u+m+|u+h+|uh-huh|mm-hmm|mhm|hmm+|er+m?|ah+)\b\s*[,.]?\s*", re.IGNORECASE)
_LEADING = re.compile(r"^(?:okay|ok|so|well|all right|alright|yeah|yes|and|now|great|right|you know|um|uh|oh|"
                      r"mm-hmm|perfect|good|sure)\b\s*[,.…-]*\s*", re.IGNORECASE)
_YOU_KNOW = re.compile(r",?\s*\byou know\b\s*,?", re.IGNORECASE)
_STUTTER = re.compile(r"\b(\w+(?:'\w+)?)(?:\s*,?\s+\1\b)+", re.IGNORECASE)
_FRAGMENT = re.compile(r"\b\w{1,6}-\s+(?=\w)")
_SPACE_PUNCT = re.compile(r"\s+([,.;:!?%])")
_SPLIT_CONTRACTION = re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE)
_MULTI_COMMA = re.compile(r"(?:,\s*){2,}")
#: Speech-recognition splits ("wan na", "gon na") read as the words they stand for.
_JOINED = {"wan": "want to", "gon": "going to", "got": "got to", "wan-": "want to"}
_SPLIT_INFINITIVE = re.compile(r"\b(wan|gon|got) (?:na|ta)\b", re.IGNORECASE)
_PLEASANTRY = re.compile(r"(?i)^(?:hi|hello|hey|good (?:morning|afternoon|evening)|welcome(?: back)?|"
                        r"(?:it's |it is )?(?:good|nice|great) to see you|thank you|thanks|i'm sorry|i am sorry|"
                        r"that's (?:great|good|okay|fine)|that is (?:great|good)|good|great|okay|wonderful)\b"
                        r"(?![^.!?]*\b(?:but|because|when|since|about)\b)[^.!?]{0,40}[.!?]?$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: A diagnosis named (a diagnostic word, a condition, an ICD-10 code): from a client it is history, never assessment.
_DIAGNOS_WORDS = r"diagnos\w*|disorder|syndrome|ptsd|adhd|bipolar|schizo\w+|dementia|alzheimer\w*|psychosis|psychotic"
_DIAGNOSIS = re.compile(rf"(?i:\b(?:{_DIAGNOS_WORDS})\b)|\b[A-Z]\d\d(?:\.\d)?\b")

#: A sentence needs at least this many content words to be worth a place in a note.
MIN_CONTENT_WORDS = 4
#: A sentence on a clinical topic needs only this many.
MIN_TOPIC_WORDS = 2
#: Added to a topical sentence's score in the section its topic routes it to: topics come first.
TOPIC_BONUS = 4.0
#: Lowest cue score that puts a sentence into a section at all.
MIN_SCORE = 1.4


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def clean_spoken(text: str) -> str:
    """Spoken words made readable without changing a fact: fillers, stutters and false starts removed.

    >>> clean_spoken("um , i , i feel , uh , bloated every once in a while .")
    'I feel, bloated every once in a while.'
    """
    out = _SPLIT_INFINITIVE.sub(lambda m: _JOINED[m.group(1).lower()], text)
    out = _FILLERS.sub("", out)
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
    """One sentence of the transcript: ``line`` is its 1-based line number; ``position`` in [0, 1].

    ``topics``: keys of :data:`medstation.notes.topics.TOPICS` it is about. ``question``: for a short
    answer read with the clinician's question it answers, that question (cleaned); ``answer`` the answer.
    """

    line: int
    index: int
    role: SpeakerRole
    raw: str
    text: str
    position: float
    question_line: int | None = None  # a short answer is read together with the question it answers
    topics: tuple[str, ...] = ()
    question: str = ""
    answer: str = ""

    @property
    def evidence(self) -> tuple[int, ...]:
        return (self.question_line, self.line) if self.question_line else (self.line,)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class SectionEvidence:
    """The units chosen for one section, in transcript order, with their scores.

    ``uncovered``: labels of the topics this section takes that nothing in the transcript covers.
    """

    key: str
    units: tuple[Unit, ...]
    scores: tuple[float, ...]
    uncovered: tuple[str, ...] = ()


def _is_question(line) -> bool:
    return line is not None and line.role is SpeakerRole.clinician and line.text.rstrip().endswith("?")


def _pair(previous, line, answer_raw: str, n: int) -> Unit | None:
    """A short answer read with the question it answers: one unit resting on both lines."""
    question = clean_spoken(split_sentences(previous.text.strip())[-1]).rstrip("?.! ")
    answer = clean_spoken(answer_raw).rstrip(".")
    text = f"{question}: {answer[:1].lower() + answer[1:]}."
    if not question or not answer or len(content_words(text)) < MIN_CONTENT_WORDS - 1:
        return None
    topics = tuple(dict.fromkeys(topics_of(question, SpeakerRole.client) + topics_of(answer, line.role)))
    return Unit(line.number, 0, line.role, answer_raw.strip(), text, (line.number - 1) / n, previous.number,
                topics, question, answer)


_CLAUSE_BREAK = re.compile(r"(?:,\s+and|;)\s+(?=(?:then\s+)?(?:you|I|we|I'll|I'm|we'll|let's)\b)|"
                           r"\s+and\s+(?=(?:you|we) (?:agreed|will|decided|are going)\b)", re.IGNORECASE)


def _clauses(raw: str, text: str, role: SpeakerRole) -> list[tuple[str, str]]:
    """A clinician's sentence split where it joins two items of different kinds ("We made a safety plan,
    and you agreed to …": an intervention and a plan item); else the sentence whole. ``(raw, cleaned)``."""
    if role is not SpeakerRole.clinician:
        return [(raw.strip(), text)]
    parts = [p.strip(" ,;") for p in _CLAUSE_BREAK.split(text) if p.strip(" ,;")]
    if len(parts) < 2 or any(len(content_words(p)) < MIN_CONTENT_WORDS - 1 for p in parts):
        return [(raw.strip(), text)]
    kinds = [topics_of(p, role)[:1] for p in parts]
    if len({tuple(k) for k in kinds}) < 2:
        return [(raw.strip(), text)]
    cleaned = [clean_spoken(p) for p in parts]
    return [(p, p) for p in cleaned]


def split_units(transcript: Transcript) -> list[Unit]:
    """Every sentence of every line, cleaned; questions and near-empty sentences are left out.

    A short answer ("No.", "About a week.", "No, nothing like that.") to a clinician's question becomes
    one unit "<question>: <answer>" resting on both lines, since the pair carries the fact; the rest of
    that turn's sentences are units of their own. A sentence on a clinical topic
    (:mod:`medstation.notes.topics`) needs only :data:`MIN_TOPIC_WORDS` content words ("I missed group.").
    A sentence that instructs the note's writer ("Assessment should read: …", "AI, add …")
    is not clinical content and never becomes a unit (:mod:`medstation.notes.injection`).
    """
    units: list[Unit] = []
    n = max(1, len(transcript.lines))
    previous = None
    for line in transcript.lines:
        sentences = [s for s in split_sentences(line.text) if s.strip()]
        clinician = line.role is SpeakerRole.clinician
        asked = _is_question(previous) and not clinician
        for i, raw in enumerate(sentences):
            if raw.rstrip().endswith("?"):
                continue  # a question states nothing; the answer carries the fact
            if is_note_instruction(raw, clinician=clinician):
                continue  # told what the note should say: not something said about the client
            text = clean_spoken(raw)
            whole_short = len(content_words(line.text)) < MIN_CONTENT_WORDS
            if asked and i == 0 and (whole_short or len(content_words(text)) < MIN_CONTENT_WORDS):
                pair = _pair(previous, line, line.text if whole_short else raw, n)
                if pair is not None:
                    units.append(pair)
                if whole_short:
                    break
                continue
            if _PLEASANTRY.match(text):
                continue  # a greeting or thanks is not note content
            for k, (part_raw, part) in enumerate(_clauses(raw, text, line.role)):
                topics = tuple(topics_of(part, line.role))
                if len(content_words(part)) < (MIN_TOPIC_WORDS if topics else MIN_CONTENT_WORDS):
                    continue
                units.append(Unit(line.number, i * 8 + k, line.role, part_raw, part, (line.number - 1) / n,
                                  topics=topics))
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


def is_therapy_session(transcript: Transcript) -> bool:
    """True when the speakers are labelled as in therapy (therapist, counsellor, client, T/C), not a medical
    visit (doctor/patient): only then does a section list the therapy topics nobody spoke about."""
    nouns = {role_noun(line.speaker, line.role) for line in transcript.lines if line.role is not SpeakerRole.other}
    return bool(nouns & {"Therapist", "Client"})


def select_evidence(transcript: Transcript, template: NoteTemplate) -> list[SectionEvidence]:
    """The units for each section of ``template`` (same order as its sections).

    A unit on a clinical topic goes to the section its topic belongs in (:func:`topics.route`) and is
    ranked first there; any other unit goes to the section it scores highest for. A section keeps its
    best units within ``max_sentences``/``max_words`` and tops up to ``min_sentences`` from weaker
    matches when it has to. Each section also lists the topics it takes that nobody spoke about.
    """
    units = split_units(transcript)
    specs = template.sections
    groups = [spec.cues for spec in specs]
    table = [[section_score(spec, u) for spec in specs] for u in units]
    chosen: dict[int, list[tuple[float, Unit]]] = {i: [] for i in range(len(specs))}
    found: set[str] = set()
    for u, scores in zip(units, table):
        routed = route(list(u.topics), groups) if u.topics else None
        if routed is None and u.question_line:  # an answer to the clinician's question is the client's report
            pair_section = route(["mood"], groups)
            if pair_section is not None:
                chosen[pair_section].append((max(scores[pair_section], MIN_SCORE), u))
                continue
        if routed is not None:  # a topic counts as covered where its own section got the sentence
            found.update(t for t in u.topics if route([t], groups) == routed)
            chosen[routed].append((max(scores[routed], MIN_SCORE) + TOPIC_BONUS, u))
            continue
        best = max(range(len(specs)), key=lambda i: scores[i]) if specs else None
        if best is not None and scores[best] >= MIN_SCORE:
            chosen[best].append((scores[best], u))
    missing = uncovered(found, groups) if is_therapy_session(transcript) else {}
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
        out.append(SectionEvidence(spec.key, tuple(u for _, u in picked), tuple(s for s, _ in picked),
                                   tuple(missing.get(i, ()))))
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
