"""Multi-session summary: the course of treatment across a client's sessions, latest session emphasised,
and the treatment plan taken from signed notes — every statement linked to the session it came from.

Statements are lines of the stored notes themselves (no new text is written):
for each session, the first line of its first section and the first line of its
assessment; for the latest session, its whole assessment and up to three lines
of its first section; the plan is the plan section of the latest *signed* note.
A session whose note is unsigned is marked as a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from medstation.notes.records import NoteStatus
from medstation.notes.spans import SpanKind, TrackedText


@dataclass(frozen=True)
class SummaryStatement:
    """``kind``: course | latest | plan. ``session_id``/``note_id`` say where the line came from."""

    kind: str
    text: str
    session_id: int
    session_date: str
    note_id: int
    signed: bool


def section_lines(text: str, spans: list[dict]) -> dict[str, list[str]]:
    """Non-template lines of a stored note, per section key, in order."""
    doc = TrackedText.from_spans(text, spans)
    per: dict[str, str] = {}
    for span in doc.spans:
        if span.kind is not SpanKind.template:
            per[span.section] = per.get(span.section, "") + span.text
    return {k: [line.strip() for line in v.split("\n") if line.strip()] for k, v in per.items()}


def _assessment_key(lines: dict[str, list[str]]) -> str | None:
    return next((k for k in lines if k == "assessment"), None)


def client_summary(notes, client_id: int) -> list[SummaryStatement]:
    """Statements for ``client_id`` in session order (course, then latest, then plan)."""
    rows = []
    for s in notes.sessions(client_id):
        ids = notes.notes_for_session(s.id)
        if not ids:
            continue
        infos = [notes.note(i) for i in ids]
        signed = [n for n in infos if n.status is NoteStatus.signed]
        note = (signed or infos)[-1]
        rows.append((s, note, section_lines(note.text, list(note.spans))))
    out: list[SummaryStatement] = []
    for i, (s, note, lines) in enumerate(rows):
        latest = i == len(rows) - 1
        is_signed = note.status is NoteStatus.signed
        first_key = next(iter(lines), None)
        picked = []
        if first_key:
            picked += lines[first_key][: 3 if latest else 1]
        akey = _assessment_key(lines)
        if akey and akey != first_key:
            picked += lines[akey] if latest else lines[akey][:1]
        for text in picked:
            out.append(SummaryStatement("latest" if latest else "course", text, s.id, s.session_date, note.id,
                                        is_signed))
    plan_source = next(((s, n, ln) for s, n, ln in reversed(rows) if n.status is NoteStatus.signed and "plan" in ln),
                       None)
    if plan_source is not None:
        s, note, lines = plan_source
        out += [SummaryStatement("plan", text, s.id, s.session_date, note.id, True) for text in lines["plan"]]
    return out


def summary_text(statements: list[SummaryStatement]) -> str:
    """Plain text with a ``[session DATE]`` link after every statement."""
    parts = {"course": "COURSE OF TREATMENT", "latest": "LATEST SESSION", "plan": "TREATMENT PLAN (signed notes)"}
    out = []
    for kind, title in parts.items():
        mine = [s for s in statements if s.kind == kind]
        if mine:
            out.append(title)
            out += [f"- {s.text} [session {s.session_date}{'' if s.signed else ', draft'}]" for s in mine]
            out.append("")
    return "\n".join(out).strip() + "\n"
