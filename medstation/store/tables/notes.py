"""The Notes tab: clients, sessions, transcripts, notes, revisions, autosaves, addenda and risk acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


# --- notes (clients, sessions, transcripts, notes, revisions) ----------------------------------
# (tables of the Notes tab go here; migration 0003)


# Statuses and span kinds are plain strings here; their enums live in medstation.notes.


class NotesClient(SQLModel, table=True):
    """A therapy client, known in the app by a clinic code (no other identifier is required)."""

    __tablename__ = "notes_client"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)
    display_name: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    archived: bool = False


class TherapySession(SQLModel, table=True):
    __tablename__ = "therapy_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="notes_client.id", index=True)
    session_date: str = Field("", description="ISO date of the session, YYYY-MM-DD")
    duration_min: int = 0
    modality: str = Field("individual", description="individual | couple | family | group | telehealth")
    clinician: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SessionTranscript(SQLModel, table=True):
    """One version of a session's transcript; edits and speaker swaps add a version, never overwrite."""

    __tablename__ = "session_transcript"
    __table_args__ = (Index("uq_session_transcript_version", "session_id", "version", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="therapy_session.id", index=True)
    version: int = 1
    source_format: str = ""
    source_name: str = ""
    text: str = Field("", description="canonical '[speaker] words' lines")
    sha256: str = ""
    roles_swapped: bool = False
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class NoteTemplateRecord(SQLModel, table=True):
    """A clinic-defined note template (sections, instructions, length bounds) as JSON."""

    __tablename__ = "note_template"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    title: str = ""
    version: str = ""
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SessionNote(SQLModel, table=True):
    """A note of a session. ``status`` draft | signed; a signed note's text is frozen in ``signed_text``."""

    __tablename__ = "session_note"
    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="therapy_session.id", index=True)
    template: str = ""
    template_version: str = ""
    status: str = Field("draft", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    signed_by: str = ""
    signed_at: Optional[datetime] = None
    signed_text: str = ""
    signed_sha256: str = ""
    ai_share_at_signing: Optional[float] = None
    signed_revision: Optional[int] = None


class NoteRevision(SQLModel, table=True):
    """A saved state of a note: full text plus span tags (AI draft / AI edited by a human / human)."""

    __tablename__ = "note_revision"
    __table_args__ = (Index("uq_note_revision_number", "note_id", "number", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    number: int = 1
    kind: str = Field("edit", description="draft | edit | regenerate | autosave-restore")
    author: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    text: str = ""
    spans: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ops: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                      description="the edit operations from the previous revision (replayable)")
    transcript_id: Optional[int] = Field(default=None, foreign_key="session_transcript.id")
    provenance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class NoteAutosave(SQLModel, table=True):
    """The editor buffer saved every second; replaced in place, promoted to a revision on save."""

    __tablename__ = "note_autosave"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True, unique=True)
    base_revision: int = 0
    saved_at: datetime = Field(default_factory=utcnow)
    text: str = ""
    spans: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class NoteAddendum(SQLModel, table=True):
    """A dated addition to a signed note (the signed text itself never changes)."""

    __tablename__ = "note_addendum"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    author: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    text: str = ""


class NoteRiskAcknowledgement(SQLModel, table=True):
    """A clinician's acknowledgement of one risk flag of a note (required before signing)."""

    __tablename__ = "note_risk_ack"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    category: str = ""
    status: str = ""
    lines: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    acknowledged_by: str = ""
    acknowledged_at: datetime = Field(default_factory=utcnow)
    comment: str = ""
