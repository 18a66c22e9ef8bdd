"""Risk detection in a transcript: deterministic patterns plus a semantic detector, independent of the LLM.

Categories: suicidal ideation (with the C-SSRS kinds passive wish, active ideation, method, intent, plan
and preparatory acts as the semantic reason), homicidal ideation, self-harm, abuse (child, partner,
elder, sexual, coercive control, neglect), overdose and access to lethal means. Each mention is:

* ``present`` — said without negation ("I want to kill myself", "I no longer want to live");
* ``denied`` — negated in its clause ("denies suicidal ideation", "I would never hurt myself"), or a
  clinician's question answered "no": a *documented denial*, not a risk;
* ``unclear`` — a clinician asked and the answer was neither yes nor no: treated as a risk.

Two detectors run on every line: the wording patterns of :mod:`medstation.notes.risk_patterns` and the
embedding classifier of :mod:`medstation.notes.risk_semantic` (everyday wording the patterns miss: "everyone
would be better off if I wasn't around"). Recall comes first: a sentence either detector reads as a risk
is flagged unless it reads as a denial. Each finding says why it was raised (the pattern, or the nearest
exemplar's kind and similarity). A sentence that holds a negation is also read clause by clause, so a
denial does not hide a risk beside it ("I would never hurt myself, but I have the pills ready": the flag
names the clause); a risk the sentence says is over ("..., but not since I started treatment") is a
denial, and a narrow list of hyperbole ("I could have strangled him when he forgot") is never a risk.
When the semantic detector cannot load, :func:`risk_flags` adds a flag
that says so, so a pattern-only check is never mistaken for the full one.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from medstation.notes import risk_patterns as rp
from medstation.notes.transcript import SpeakerRole, Transcript

_DEFAULT = object()


class RiskStatus(str, enum.Enum):
    present = "present"
    denied = "denied"
    unclear = "unclear"


CATEGORY_LABELS = {
    "suicidal_ideation": "suicidal ideation",
    "homicidal_ideation": "homicidal ideation",
    "self_harm": "self-harm",
    "abuse": "abuse",
    "overdose": "overdose",
    "lethal_means": "access to lethal means",
}
#: The flag raised when the semantic detector could not run (only the patterns were checked).
DETECTOR_UNAVAILABLE = "semantic_detector_unavailable"
_DETECTOR_LABEL = "semantic risk detector unavailable"


@dataclass(frozen=True)
class RiskFinding:
    """One mention: ``line`` is the transcript line number; ``start``/``end`` characters in that line's text.

    ``source``: ``pattern`` or ``semantic``; ``why``: the reason shown to the clinician; ``score``: 1.0
    for a pattern, else the classifier's risk probability (0..1); ``kind``: the pattern's id
    (``category#index``) or the C-SSRS / abuse kind of the nearest exemplar."""

    category: str
    status: RiskStatus
    line: int
    phrase: str
    start: int
    end: int
    answer_line: int | None = None  # the client's answer line when a clinician's question was answered
    source: str = "pattern"
    why: str = ""
    score: float = 1.0
    kind: str = ""


class RiskFindings(list):
    """The findings of one transcript; ``semantic_error`` is non-empty when the semantic detector did not run."""

    semantic_error: str = ""


@dataclass(frozen=True)
class RiskFlag:
    """A category to acknowledge before signing (``status`` present or unclear), or a documented denial.

    ``details``: ``(line, why)`` for each mention behind the flag; ``why`` joins them; ``score`` is the
    strongest mention's score (1.0 when a pattern matched)."""

    category: str
    status: RiskStatus
    lines: tuple[int, ...]
    phrases: tuple[str, ...]
    why: str = ""
    score: float = 1.0
    details: tuple[tuple[int, str], ...] = ()

    @property
    def label(self) -> str:
        if self.category == DETECTOR_UNAVAILABLE:
            return _DETECTOR_LABEL
        return CATEGORY_LABELS.get(self.category, self.category.replace("_", " "))

    @property
    def needs_acknowledgement(self) -> bool:
        return self.status is not RiskStatus.denied

    def to_dict(self) -> dict:
        return {"category": self.category, "label": self.label, "status": self.status.value,
                "lines": list(self.lines), "phrases": list(self.phrases), "why": self.why,
                "score": round(self.score, 3), "details": [{"line": n, "why": w} for n, w in self.details],
                "needs_acknowledgement": self.needs_acknowledgement}


def _answer_status(transcript: Transcript, line_number: int) -> tuple[RiskStatus, int | None]:
    """A clinician's risk question: the client's reply on the next client line decides."""
    for nxt in transcript.lines[line_number:line_number + 2]:
        if nxt.role is SpeakerRole.client or nxt.role is SpeakerRole.other:
            if rp.ANSWER_NO.match(nxt.text):
                return RiskStatus.denied, nxt.number
            if rp.ANSWER_YES.match(nxt.text):
                return RiskStatus.present, nxt.number
            return RiskStatus.unclear, nxt.number
    return RiskStatus.unclear, None


def _asked(line, end: int) -> bool:
    sentence_end = next((m.start() for m in re.finditer(r"[.!?]", line.text) if m.start() >= end), len(line.text))
    return line.role is SpeakerRole.clinician and line.text[sentence_end:sentence_end + 1] == "?"


def _hyperbole_clause(text: str, start: int, end: int) -> bool:
    """A :data:`~medstation.notes.risk_patterns.HYPERBOLE` in the clause(s) of ``text`` around ``start:end``.

    Scoped to clauses, not sentences: "I could have strangled him when he said that, I've been looking up how
    many of my pills it would take" is hyperbole in its first clause and a risk in its second. A span over a
    whole sentence counts when any of its clauses holds one (that sentence is then read clause by clause)."""
    from medstation.notes import risk_semantic as rs

    sa = max((m.end() for m in re.finditer(r"[.!?](?:\s|$)", text[:start])), default=0)
    sb = next((m.start() + 1 for m in re.finditer(r"[.!?](?:\s|$)", text) if m.start() >= end - 1), len(text))
    sentence = text[sa:sb]
    matches = [(sa + m.start(), sa + m.end()) for m in rp.HYPERBOLE.finditer(sentence)]
    if not matches:
        return False
    clauses = [(sa + a, sa + b) for a, b in rs.split_clauses(sentence)] or [(sa, sb)]
    around = [(a, b) for a, b in clauses if a < max(end, start + 1) and b > start] or clauses
    return any(m0 < b and m1 > a for a, b in around for m0, m1 in matches)


def _pattern_findings(transcript: Transcript) -> list[RiskFinding]:
    findings = []
    for line in transcript.lines:
        for category, index, start, end in rp.pattern_spans(line.text):
            if _hyperbole_clause(line.text, start, end):
                continue  # "I'll kill my brother if he borrows my car again": hyperbole, not a threat
            answer = None
            if _asked(line, end):
                status, answer = _answer_status(transcript, line.number)
            else:
                status = RiskStatus.denied if rp.negated(line.text, start, end) else RiskStatus.present
            phrase = line.text[start:end]
            why = f"pattern {category}#{index} matched \"{phrase}\""
            findings.append(RiskFinding(category, status, line.number, phrase, start, end, answer, "pattern", why,
                                        1.0, f"{category}#{index}"))
    return findings


def _semantic_pass(transcript: Transcript, model, patterns: list[RiskFinding]) -> list[RiskFinding]:
    """The pattern findings to keep plus the semantic ones, from one batch of sentence scores.

    * A sentence the classifier reads as a risk (probability >= ``RISK_THRESHOLD``) is flagged unless a
      pattern of its category already flags it.
    * Negation on top: it is a documented denial when it has a first-person denial shape ("I have no
      intention of hurting him", "he has never hit me") or a protective one ("I want to live"), or when
      the classifier finds it more a denial than a risk by ``DENIAL_MARGIN``. "I don't want to live" has
      neither, so it stays a risk.
    * A pattern's own negation scope stands, unless the classifier is sure it is a risk
      (``OVERRIDE_THRESHOLD``): recall first.
    * A weak pattern ("bought rope") counts only when the classifier finds some risk in the sentence."""
    from medstation.notes import risk_semantic as rs

    units = [(line, a, b) for line in transcript.lines for a, b in rs.split_sentences(line.text)]
    # A sentence with a negation and several clauses is also read clause by clause (one batch for all); only
    # those can hide a risk behind a denial, and embedding every clause of a long transcript costs time.
    clauses = [[(a + ca, a + cb) for ca, cb in rs.split_clauses(line.text[a:b])]
               if rp.has_negation(line.text[a:b]) or rp.HYPERBOLE.search(line.text[a:b]) else []
               for line, a, b in units]
    flat = [(line, ca, cb) for (line, _, _), parts in zip(units, clauses) for ca, cb in parts]
    all_scores = model.score([line.text[a:b] for line, a, b in units] + [line.text[a:b] for line, a, b in flat])
    scores, rest = all_scores[:len(units)], iter(all_scores[len(units):])
    clause_scores = [[(span, next(rest)) for span in parts] for parts in clauses]

    def score_at(f: RiskFinding):
        return next((s for (line, a, b), s in zip(units, scores) if line.number == f.line and a <= f.start < b), None)

    kept = []
    for f in patterns:
        s = score_at(f)
        weak = f.kind in {f"{c}#{i}" for c, i in rp.WEAK}
        if weak and f.status is not RiskStatus.denied and s is not None and s.p_risk < rs.WEAK_THRESHOLD \
                and s.similarity < rs.NEAR_SIMILARITY:
            continue
        kept.append(f)
    def read(line, a: int, b: int, s, clause: bool) -> RiskFinding | None:
        """The semantic reading of ``line.text[a:b]`` (a sentence, or one clause of it), or None."""
        near = s.similarity >= rs.NEAR_SIMILARITY and s.p_risk >= rs.NEAR_MIN_PROBABILITY  # says what an exemplar says
        words = rs.word_count(line.text[a:b])
        if not near and (s.p_risk < rs.RISK_THRESHOLD or s.similarity < rs.SIMILARITY_FLOOR
                         or s.similarity - s.none_similarity < rs.KNN_MARGIN) or words < 3:
            return None  # far from every risk exemplar: the classifier is extrapolating, not recognising
        if words < rs.SHORT_WORDS and not near and s.p_risk < rs.SHORT_THRESHOLD:
            return None  # a fragment ("so has my son"): too little meaning for the classifier alone
        if s.p_risk < rs.UNSURE_BELOW and s.similarity - s.none_similarity < rs.UNSURE_KNN_MARGIN:
            return None  # an unsure reading, and an everyday or denial exemplar says it better ("my kids are at their dad's")
        if line.role is SpeakerRole.clinician:
            # A clinician's question ("are you taking your medication?") states no risk, and the patterns
            # already read the answers to risk questions; a clinician's statement needs a surer reading.
            if _asked(line, a) or s.p_risk < rs.CLINICIAN_THRESHOLD or s.similarity < rs.CLINICIAN_SIMILARITY:
                return None
        same = [f for f in kept if f.line == line.number and f.start < b and f.end > a and f.category == s.category]
        if any(f.status is not RiskStatus.denied for f in same):
            return None  # a pattern already flags this sentence
        sentence = line.text[a:b]
        if s.p_risk < rs.IDIOM_CEILING and rp.IDIOM.search(sentence) and not same:
            return None  # "I'd kill for a coffee": an everyday idiom, read as a risk only weakly
        if _hyperbole_clause(line.text, a, b):
            return None  # "I could have strangled him when he forgot our anniversary"
        if same and not (s.p_risk >= rs.OVERRIDE_THRESHOLD and s.p_denial < 1 - rs.OVERRIDE_THRESHOLD):
            return None  # the pattern read it as a denial, and the classifier is not sure otherwise
        note = ""
        # Neglect is told by what nobody does ("nobody feeds them"): a negated verb there is the risk, not a denial.
        # The classifier's denial class rests on negation words, so for neglect only a protective reading
        # ("they have everything they need") or a denial far surer than the risk makes it a denial.
        omission = s.kind == "neglect" and not clause  # a lone clause ("I never drive with the kids") needs more
        if (rp.reads_as_denial(sentence) and not omission) or rp.resolved_in_past(sentence) \
                or s.p_denial - s.p_risk >= (rs.NEGLECT_DENIAL_MARGIN if omission else rs.DENIAL_MARGIN):
            status, note = RiskStatus.denied, f"; read as a denial (denial probability {s.p_denial:.2f})"
        else:
            status = RiskStatus.present
        if status is RiskStatus.denied and any(f.line == line.number and f.start < b and f.end > a for f in kept):
            return None  # a pattern already documents what this sentence denies, in its own category
        part = f"clause \"{sentence}\" of its sentence; " if clause else ""
        why = (f"semantic: {part}nearest exemplar \"{s.exemplar}\" ({s.kind.replace('_', ' ')}, similarity "
               f"{s.similarity:.2f}); risk probability {s.p_risk:.2f}{note}")
        return RiskFinding(s.category, status, line.number, sentence, a, b, None, "semantic", why, s.p_risk, s.kind)

    findings = []
    for (line, a, b), s, parts in zip(units, scores, clause_scores):
        found = read(line, a, b, s, clause=False)
        sentence = line.text[a:b]
        if (found is None or found.status is RiskStatus.denied) and parts and not rp.resolved_in_past(sentence):
            # Denial and risk in one sentence ("I would never hurt myself, but I've looked up how many pills
            # it would take"): the sentence as a whole reads as a denial, or the denial dilutes its risk; a
            # clause that on its own reads as a risk, and not as a denial, makes the sentence a risk. Only in
            # sentences with a negation (that is the case), and with a surer reading than a whole sentence:
            # a clause of ordinary talk ("when I went home") is short and easily near some exemplar.
            risky = [r for r in (read(line, ca, cb, cs, clause=True) for (ca, cb), cs in parts
                                 if cs.p_risk >= rs.CLAUSE_THRESHOLD and cs.similarity >= rs.CLAUSE_SIMILARITY)
                     if r is not None and r.status is RiskStatus.present]
            if risky:
                found = max(risky, key=lambda r: r.score)
        if found is not None:
            findings.append(found)
    return kept + findings


def detect_risks(transcript: Transcript, *, semantic=_DEFAULT) -> RiskFindings:
    """Every risk mention in ``transcript``, in line order.

    ``semantic``: a :class:`~medstation.notes.risk_semantic.SemanticRiskModel` (default: the shared one on
    the bundled embedder) or None to run the patterns only; either way a detector that did not run is
    recorded in ``semantic_error`` and becomes a flag of its own."""
    patterns = _pattern_findings(transcript)
    findings = RiskFindings(patterns)
    if semantic is _DEFAULT:
        from medstation.notes.risk_semantic import default_model

        semantic = default_model()
    if semantic is None:
        findings.semantic_error = "not run (patterns only were requested)"
    elif transcript.lines:
        try:
            findings[:] = _semantic_pass(transcript, semantic, patterns)
        except RuntimeError as exc:
            findings.semantic_error = str(exc).removeprefix("semantic risk detector unavailable: ")
    findings.sort(key=lambda f: (f.line, f.start))
    return findings


def risk_flags(findings: list[RiskFinding]) -> list[RiskFlag]:
    """One flag per category: present/unclear when any mention is, else a documented denial; plus a
    flag saying the semantic detector was unavailable when it did not run."""
    flags = []
    for category in CATEGORY_LABELS:
        mine = [f for f in findings if f.category == category]
        if not mine:
            continue
        risky = [f for f in mine if f.status is not RiskStatus.denied]
        chosen = risky or mine
        status = (RiskStatus.present if any(f.status is RiskStatus.present for f in risky) else RiskStatus.unclear) \
            if risky else RiskStatus.denied
        lines = sorted({f.line for f in chosen} | {f.answer_line for f in chosen if f.answer_line})
        details = tuple(dict.fromkeys((f.line, f.why) for f in chosen))
        flags.append(RiskFlag(category, status, tuple(lines), tuple(dict.fromkeys(f.phrase for f in chosen)),
                              "; ".join(f"line {n}: {w}" for n, w in details), max(f.score for f in chosen),
                              details))
    error = getattr(findings, "semantic_error", "")
    if error:
        flags.append(RiskFlag(DETECTOR_UNAVAILABLE, RiskStatus.unclear, (), (),
                              f"The semantic risk detector was not used ({error}); only the wording patterns were "
                              "checked, so everyday phrasings of risk may be missed. Read the transcript for risk.",
                              0.0))
    return flags
