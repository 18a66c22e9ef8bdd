"""Note templates: SOAP, DAP, BIRP, and the clinic's own (stored in the ``note_template`` table).

A template is a tuple of :class:`SectionSpec`. Each section says what it holds
in words (``instruction``, shown to the model and the clinician) and, for the
extractive evidence selector, which *cue groups* describe its content
(``history``, ``exam``, ``assessment``, ``plan``, ``intervention``,
``response``) plus extra keywords of its own. ``min_sentences`` /
``max_sentences`` bound the drafted length; ``max_words`` caps it in words.

``version`` is a short hash of everything that changes a draft, so a draft's
provenance names exactly the template it was made from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from medstation.errors import UserFacingError

CUE_GROUPS = ("history", "exam", "assessment", "plan", "intervention", "response")


class TemplateError(UserFacingError):
    """A template is unknown or malformed."""


@dataclass(frozen=True)
class SectionSpec:
    """One section of a note. ``cues``: cue groups from :data:`CUE_GROUPS`; ``keywords``: extra words."""

    key: str
    title: str
    instruction: str
    cues: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    min_sentences: int = 0
    max_sentences: int = 12
    max_words: int = 220

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NoteTemplate:
    name: str
    title: str
    sections: tuple[SectionSpec, ...]
    builtin: bool = True
    schema_version: int = 1
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def version(self) -> str:
        """``name@<12 hex>``: changes whenever a section, instruction or bound changes."""
        spec = json.dumps([s.to_dict() for s in self.sections], sort_keys=True)
        return f"{self.name}@{hashlib.sha256(spec.encode()).hexdigest()[:12]}"

    def section(self, key: str) -> SectionSpec:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "schema_version": self.schema_version, "sections": [s.to_dict() for s in self.sections]}


def _words(data: dict, field: str) -> tuple[str, ...]:
    """A list of words from a section's ``field``; one word typed as a string is that word (not its letters)."""
    value = data.get(field) or ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TemplateError(f"A section's {field!r} is a list of words, e.g. [\"plan\"].")
    return tuple(v.strip() for v in value if v.strip())


def _whole(data: dict, field: str, default: int) -> int:
    value = data.get(field, default)
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != int(number):
        raise TemplateError(f"A section's {field!r} must be a whole number, not {value!r}.")
    return int(number)


def section_from_dict(data: dict) -> SectionSpec:
    """A section from stored JSON; unknown cue groups are refused so a typo cannot silently empty a section."""
    if not isinstance(data, dict):
        raise TemplateError(f"Each template section is an object with a key and a title, not {data!r}.")
    try:
        key, title = str(data["key"]).strip(), str(data["title"]).strip()
    except KeyError as exc:
        raise TemplateError(f"A template section needs a {exc.args[0]!r}.") from exc
    if not key or not title:
        raise TemplateError("A template section needs a key and a title.")
    cues = _words(data, "cues")
    bad = [c for c in cues if c not in CUE_GROUPS]
    if bad:
        raise TemplateError(f"Unknown cue group(s) {', '.join(bad)}; use {', '.join(CUE_GROUPS)}.")
    lo, hi = _whole(data, "min_sentences", 0), _whole(data, "max_sentences", 12)
    if lo < 0 or hi < max(1, lo):
        raise TemplateError(f"Section {title!r}: length bounds must satisfy 0 <= min <= max and max >= 1.")
    return SectionSpec(key=key, title=title, instruction=str(data.get("instruction", "")), cues=cues or
                       guess_cues(title + " " + str(data.get("instruction", ""))),
                       keywords=tuple(k.lower() for k in _words(data, "keywords")),
                       min_sentences=lo, max_sentences=hi, max_words=_whole(data, "max_words", 220))


def guess_cues(text: str) -> tuple[str, ...]:
    """Cue groups suggested by a custom section's title and instruction (e.g. "Treatment plan" -> plan)."""
    low = text.lower()
    hints = {
        "history": ("subjective", "history", "complaint", "presenting", "data", "report", "behavior", "symptom"),
        "exam": ("objective", "exam", "observ", "mental status", "vital", "finding", "result", "behavior"),
        "assessment": ("assessment", "impression", "diagnos", "progress", "formulation"),
        "plan": ("plan", "next", "follow", "homework", "recommend", "goal"),
        "intervention": ("intervention", "technique", "treatment provided", "therapy"),
        "response": ("response", "reaction", "engagement"),
    }
    found = tuple(group for group, words in hints.items() if any(w in low for w in words))
    return found or ("history",)


def template_from_json(data: dict, *, builtin: bool = False) -> NoteTemplate:
    """A template from JSON (typed by a person or stored); anything malformed raises :class:`TemplateError`."""
    if not isinstance(data, dict):
        raise TemplateError("A template is a JSON object with a \"name\" and a list of \"sections\".")
    name = data.get("name", "")
    if not isinstance(name, str) or not name.strip():
        raise TemplateError("A template needs a name (text).")
    name = name.strip().lower()
    raw = data.get("sections") or ()
    if not isinstance(raw, (list, tuple)):
        raise TemplateError(f"Template {name!r}: \"sections\" is a list of section objects.")
    sections = tuple(section_from_dict(s) for s in raw)
    if not sections:
        raise TemplateError(f"Template {name!r} has no sections.")
    if len({s.key for s in sections}) != len(sections):
        raise TemplateError(f"Template {name!r} has two sections with the same key.")
    return NoteTemplate(name=name, title=str(data.get("title") or name.upper()), sections=sections,
                        builtin=builtin, description=str(data.get("description", "")))


SOAP = NoteTemplate("soap", "SOAP note", (
    SectionSpec("subjective", "Subjective",
                "What the client reports: presenting concern, history, symptoms and their course, in their words.",
                cues=("history",), min_sentences=1, max_sentences=14, max_words=260),
    SectionSpec("objective", "Objective",
                "What the clinician observed or measured: examination, mental status, vital signs, results.",
                cues=("exam",), max_sentences=8, max_words=140),
    SectionSpec("assessment", "Assessment",
                "The clinician's impression: diagnoses, progress, risk and safety, the client's response.",
                cues=("assessment", "response"), max_sentences=8, max_words=160),
    SectionSpec("plan", "Plan",
                "Interventions used in the session, then next steps: treatment, medication changes, referrals, "
                "homework, follow-up with dates.",
                cues=("plan", "intervention"), min_sentences=1, max_sentences=12, max_words=220),
), description="Subjective, Objective, Assessment, Plan")

DAP = NoteTemplate("dap", "DAP note", (
    SectionSpec("data", "Data",
                "What happened in the session: the client's report, the clinician's observations and the "
                "interventions used.",
                cues=("history", "exam", "intervention"), min_sentences=1, max_sentences=20, max_words=380),
    SectionSpec("assessment", "Assessment",
                "The clinician's interpretation: progress, response to the session, diagnoses, risk and safety.",
                cues=("assessment", "response"), max_sentences=8, max_words=160),
    SectionSpec("plan", "Plan", "Next steps: interventions, homework, referrals, next session.",
                cues=("plan",), min_sentences=1, max_sentences=10, max_words=180),
), description="Data, Assessment, Plan")

BIRP = NoteTemplate("birp", "BIRP note", (
    SectionSpec("behavior", "Behavior",
                "The client's presentation and report: mood, behaviour, symptoms, what they describe.",
                cues=("history", "exam"), min_sentences=1, max_sentences=12, max_words=240),
    SectionSpec("intervention", "Intervention", "What the clinician did: techniques, psychoeducation, exercises.",
                cues=("intervention",), max_sentences=8, max_words=140),
    SectionSpec("response", "Response", "How the client responded to the interventions.",
                cues=("response",), max_sentences=6, max_words=100),
    SectionSpec("plan", "Plan", "Next steps: homework, referrals, next session.",
                cues=("plan",), min_sentences=1, max_sentences=8, max_words=140),
), description="Behavior, Intervention, Response, Plan")

BUILTIN_TEMPLATES: dict[str, NoteTemplate] = {t.name: t for t in (SOAP, DAP, BIRP)}
