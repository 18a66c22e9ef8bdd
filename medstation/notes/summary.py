"""Multi-session summary: the course of treatment across a client's sessions, told by theme, every
statement linked to the session(s) it rests on.

Themes, in this order (:data:`THEMES`):

* **risk** — every risk episode (a flag raised as present or unclear in any session's draft) is stated
  as an episode with its session; a category denied in one session but raised in another is never
  summarised as a denial ("Risk episodes: suicidal ideation (present) on 2026-11-16; denied on
  2026-11-02"). Denials are listed only after the episodes.
* **medication** — changes (started, stopped, increased, cut, skipped, without the prescriber) by date;
* **sleep** and **mood** — a trend when the notes give numbers (hours a night, "x out of ten"),
  else the sessions' statements in date order;
* **substance use**, **attendance**;
* **homework and plan** — what was set, session by session; the current plan comes from the latest
  *signed* note.

Statements are composed from the notes' own lines (never new facts): each
:class:`SummaryStatement` keeps the note lines it was made from in ``sources``.
A session whose note is unsigned is marked as a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.notes.facts import numbers_in
from medstation.notes.records import NoteStatus
from medstation.notes.spans import SpanKind, TrackedText
from medstation.notes.topics import TOPIC_BY_KEY


@dataclass(frozen=True)
class SummaryStatement:
    """``kind``: course | latest | plan. ``theme``: risk | medication | sleep | mood | substance | attendance |
    homework. ``session_id``/``note_id``: the (latest) session it rests on; ``sources``: the note lines used."""

    kind: str
    text: str
    session_id: int
    session_date: str
    note_id: int
    signed: bool
    theme: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Session:
    id: int
    date: str
    note_id: int
    signed: bool
    lines: dict[str, list[str]]
    risk_flags: list[dict]


def section_lines(text: str, spans: list[dict]) -> dict[str, list[str]]:
    """Non-template lines of a stored note, per section key, in order."""
    doc = TrackedText.from_spans(text, spans)
    per: dict[str, str] = {}
    for span in doc.spans:
        if span.kind is not SpanKind.template:
            per[span.section] = per.get(span.section, "") + span.text
    return {k: [line.strip() for line in v.split("\n") if line.strip()] for k, v in per.items()}


_CHANGE = re.compile(r"(?i)\b(?:stop\w*|quit|start\w*|began|increas\w*|decreas\w*|cut\w*|halv\w*|half|switch\w*|"
                     r"skip\w*|miss\w*|taper\w*|restart\w*|without|did not tell|has not told|new dose|adjust\w*|"
                     r"not taking|only (?:been )?taking)")
_HOURS = re.compile(r"(?i)\b([\w-]+(?: or [\w-]+)?) hours?\b")
_SCORE = re.compile(r"(?i)\b([\w-]+) (?:out of (?:ten|10)|/ ?10)\b")
_PLAN_LINE = re.compile(r"(?i)^(?:client|patient) (?:to|agreed to)\b|^plan:|homework|\bwill\b|next (?:session|"
                        r"appointment)|see (?:client|patient)")
_NOT_RISK = re.compile(r"(?i)^(?:risk:|documented denial)")


def _value(text: str) -> float | None:
    values = sorted(numbers_in(text))
    return values[-1] if values else None


def _sessions(notes, client_id: int) -> list[_Session]:
    rows = []
    for s in notes.sessions(client_id):
        ids = notes.notes_for_session(s.id)
        if not ids:
            continue
        infos = [notes.note(i) for i in ids]
        signed = [n for n in infos if n.status is NoteStatus.signed]
        note = (signed or infos)[-1]
        rows.append(_Session(s.id, str(s.session_date), note.id, note.status is NoteStatus.signed,
                             section_lines(note.text, list(note.spans)), list(note.risk_flags)))
    return rows


def _all_lines(session: _Session) -> list[str]:
    return [line for lines in session.lines.values() for line in lines]


def _stamp(session: _Session) -> str:
    return session.date + ("" if session.signed else " (draft)")


def _risk(rows: list[_Session]) -> list[SummaryStatement]:
    """Episodes first, per category; a category with an episode anywhere is never summarised as denied."""
    episodes: dict[str, list[tuple[_Session, dict]]] = {}
    denials: dict[str, list[_Session]] = {}
    for row in rows:
        for flag in row.risk_flags:
            label = flag.get("label") or flag["category"].replace("_", " ")
            if flag["status"] in ("present", "unclear"):
                episodes.setdefault(label, []).append((row, flag))
            else:
                denials.setdefault(label, []).append(row)
    out = []
    for label, items in episodes.items():
        when = "; ".join(f"{flag['status']} on {_stamp(row)} (line {', '.join(map(str, flag['lines']))})"
                         for row, flag in items)
        denied = [r for r in denials.get(label, []) if r not in [i[0] for i in items]]
        tail = f"; not raised or denied on {', '.join(_stamp(r) for r in denied)}" if denied else ""
        last = items[-1][0]
        out.append(SummaryStatement("course", f"Risk episode — {label}: {when}{tail}.", last.id, last.date,
                                    last.note_id, last.signed, "risk"))
    for label, sessions in denials.items():
        if label in episodes:
            continue
        last = sessions[-1]
        out.append(SummaryStatement("course", f"Risk: {label} denied on {', '.join(_stamp(r) for r in sessions)}.",
                                    last.id, last.date, last.note_id, last.signed, "risk"))
    return out


def _theme(rows: list[_Session], theme: str, topic: str, title: str, *, only=None,
           measure: re.Pattern | None = None, unit: str = "") -> list[SummaryStatement]:
    """One statement per theme: the sessions' lines on ``topic`` in date order, with a trend if measurable."""
    pattern = TOPIC_BY_KEY[topic].pattern
    picked: list[tuple[_Session, str]] = []
    for row in rows:
        for line in _all_lines(row):
            if _NOT_RISK.match(line) or line.startswith("Not discussed"):
                continue
            if pattern.search(line) and (only is None or only.search(line)):
                picked.append((row, line))
                break  # one line per session keeps the course readable
    if not picked:
        return []
    trend = ""
    if measure is not None:
        points = [(row, _value(m.group(1))) for row, line in picked if (m := measure.search(line))]
        points = [(row, v) for row, v in points if v is not None]
        if len(points) >= 2:
            first, last = points[0][1], points[-1][1]
            word = "up" if last > first else "down" if last < first else "unchanged"
            trend = (f" Trend: {first:g}{unit} ({_stamp(points[0][0])}) to {last:g}{unit} ({_stamp(points[-1][0])}), "
                     f"{word}.")
    body = " ".join(f"{_stamp(row)}: {_strip_frame(line)}" for row, line in picked)
    last = picked[-1][0]
    return [SummaryStatement("course", f"{title} — {body}{trend}", last.id, last.date, last.note_id, last.signed,
                             theme, tuple(line for _, line in picked))]


def _strip_frame(line: str) -> str:
    """"Client reports that they sleep four hours." -> "sleeps four hours."-like short form (keeps every word
    that carries a fact; only the reporting frame goes)."""
    short = re.sub(r"(?i)^(?:client|patient) reports (?:that )?", "", line).strip()
    return short[:1].lower() + short[1:] if short else line


def client_summary(notes, client_id: int) -> list[SummaryStatement]:
    """The course of treatment for ``client_id``: risk, medication, sleep, mood, substance use,
    attendance, then the homework of each session and the current plan (latest signed note)."""
    rows = _sessions(notes, client_id)
    if not rows:
        return []
    out = _risk(rows)
    out += _theme(rows, "medication", "medication", "Medication", only=_CHANGE)
    out += _theme(rows, "sleep", "sleep", "Sleep", measure=_HOURS, unit=" h")
    out += _theme(rows, "mood", "mood", "Mood", measure=_SCORE, unit="/10")
    out += _theme(rows, "substance", "substance", "Substance use")
    out += _theme(rows, "attendance", "attendance", "Attendance")
    latest = rows[-1]
    for row in rows:
        plan = [line for line in row.lines.get("plan", []) if _PLAN_LINE.search(line)]
        if plan and row is not latest:
            out.append(SummaryStatement("course", f"Homework set {_stamp(row)}: {' '.join(plan)}", row.id, row.date,
                                        row.note_id, row.signed, "homework", tuple(plan)))
    first_key = next(iter(latest.lines), None)
    for line in latest.lines.get(first_key, [])[:3] if first_key else []:
        if not line.startswith("Not discussed"):
            out.append(SummaryStatement("latest", line, latest.id, latest.date, latest.note_id, latest.signed,
                                        "", (line,)))
    for line in latest.lines.get("assessment", []):
        if not _NOT_RISK.match(line):  # risk is told once, as the course of episodes above
            out.append(SummaryStatement("latest", line, latest.id, latest.date, latest.note_id, latest.signed,
                                        "", (line,)))
    signed_plan = next((r for r in reversed(rows) if r.signed and "plan" in r.lines), None)
    if signed_plan is not None:
        out += [SummaryStatement("plan", line, signed_plan.id, signed_plan.date, signed_plan.note_id, True,
                                 "homework", (line,)) for line in signed_plan.lines["plan"]]
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
