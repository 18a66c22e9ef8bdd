"""Frozen records the Notes service hands across threads (never ORM rows), and the note <-> tracked-text mapping."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from medstation.errors import UserFacingError
from medstation.notes.draft import Draft
from medstation.notes.spans import SpanKind, TrackedText


class NoteStatus(str, enum.Enum):
    draft = "draft"
    signed = "signed"


class NoteLocked(UserFacingError):
    """The note is signed: changes go into a dated addendum."""


class NoteConflict(UserFacingError):
    """Another workstation saved a newer revision of the note after the one being edited: refused, not overwritten."""


class SignOffBlocked(UserFacingError):
    """Signing is refused until every risk flag is acknowledged and the shown text is the saved one."""


@dataclass(frozen=True)
class ClientInfo:
    id: int
    code: str
    display_name: str


@dataclass(frozen=True)
class SessionInfo:
    id: int
    client_id: int
    session_date: str
    duration_min: int
    modality: str
    clinician: str


@dataclass(frozen=True)
class TranscriptInfo:
    id: int
    session_id: int
    version: int
    source_format: str
    source_name: str
    sha256: str
    roles_swapped: bool
    text: str


@dataclass(frozen=True)
class RevisionInfo:
    number: int
    kind: str
    author: str
    created_at: datetime
    text: str
    spans: tuple[dict, ...]
    ai_share: float


@dataclass(frozen=True)
class NoteInfo:
    id: int
    session_id: int
    template: str
    status: NoteStatus
    revision: int
    text: str
    spans: tuple[dict, ...]
    draft: dict  # the AI draft (Draft.to_dict()) the note started from: evidence, flags, provenance
    acknowledged: tuple[str, ...]
    signed_by: str = ""
    signed_at: datetime | None = None
    ai_share_at_signing: float | None = None
    addenda: tuple[tuple[str, datetime, str], ...] = ()
    # Flags of the session's latest transcript (recomputed when it changes; None: the draft's own flags),
    # and those present/unclear risks the note text no longer states (sign-off and export refuse then).
    current_risk_flags: tuple[dict, ...] | None = None
    unstated_risks: tuple[dict, ...] = ()

    @property
    def risk_flags(self) -> list[dict]:
        if self.current_risk_flags is not None:
            return list(self.current_risk_flags)
        return list(self.draft.get("risk_flags", []))

    @property
    def pending_risks(self) -> list[dict]:
        return [f for f in self.risk_flags if f["needs_acknowledgement"] and f["category"] not in self.acknowledged]


def tracked_from_draft(draft: Draft, *, author: str, at: str) -> TrackedText:
    """The editor document of a draft: template headings, one AI chunk per sentence (id ``key:i``)."""
    doc = TrackedText()
    for section in draft.sections:
        doc.append(f"{section.title.upper()}\n", SpanKind.template, section=section.key)
        if not section.sentences:
            doc.append(f"{section.note}\n", SpanKind.template, section=section.key)
        for i, sentence in enumerate(section.sentences):
            doc.append(sentence.text + "\n", SpanKind.ai, author=author, at=at, chunk=f"{section.key}:{i}",
                       section=section.key)
        doc.append("\n", SpanKind.template, section=section.key)
    return doc
