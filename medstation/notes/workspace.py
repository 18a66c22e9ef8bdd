"""What the Notes tab shows, resolved by io-lane jobs into frozen values (the tab reads no database itself).

* :func:`load_session` — a session with its client, **every** note of the session (signed ones included,
  oldest first) and the one to show as a :class:`NoteView`.
* :class:`NoteView` — the note, its editor document (the last revision, or a newer autosave to recover),
  evidence lines and fact flags of every chunk (first draft and regenerated sections), and the transcript
  version the note was drafted from, which its evidence line numbers refer to. ``transcript_changed`` says
  when the session's transcript has a newer version than that.
* :func:`prepare_signing` — saves the document the user sees and returns a :class:`SignPreview`: exactly
  the text, revision and AI share (an exact fraction) that signing will store, with client and session.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from medstation.errors import UserFacingError
from medstation.notes.records import ClientInfo, NoteInfo, SessionInfo, TranscriptInfo
from medstation.notes.spans import SpanKind, TrackedText
from medstation.notes.transcript import Line


@dataclass(frozen=True)
class NoteView:
    note: NoteInfo
    doc: TrackedText  # handed to the GUI thread, which owns it from then on
    recovered: bool
    evidence: dict[str, list[int]]  # chunk id -> 1-based line numbers of ``transcript``
    fact_flags: dict[str, list[tuple[int, int]]]  # chunk id -> character ranges inside the chunk
    transcript: TranscriptInfo | None  # the version the note was drafted from
    lines: tuple[Line, ...]
    latest_version: int | None

    @property
    def transcript_changed(self) -> bool:
        return self.transcript is not None and self.latest_version is not None and \
            self.transcript.version != self.latest_version


@dataclass(frozen=True)
class SessionView:
    session: SessionInfo
    client: ClientInfo
    notes: tuple[NoteInfo, ...]  # every note of the session, oldest first
    note: NoteView | None  # the note shown (None: the session has none yet)
    transcript: TranscriptInfo | None  # the latest version (None: nothing imported yet)
    lines: tuple[Line, ...]  # of the latest version
    message: str = ""


def load_note(ctx, service, note_id: int) -> NoteView:
    """Job: one note as the editor shows it."""
    note = service.note(note_id)
    doc = TrackedText.from_spans(note.text, list(note.spans))
    recovered = service.recover_autosave(note_id) if note.status.value == "draft" else None
    evidence, flags = service.note_links(note_id)
    transcript_id = service.note_transcript_id(note_id)
    info, lines, latest = None, (), None
    if transcript_id is not None:
        info, transcript = service.transcript_version(transcript_id)
        lines = transcript.lines
        latest = service.latest_transcript(note.session_id)[0].version
    return NoteView(note, recovered or doc, recovered is not None, evidence, flags, info, tuple(lines), latest)


def load_session(ctx, service, session_id: int, note_id: int | None = None) -> SessionView:
    """Job: the session, all its notes and the one to show (``note_id``, else the newest)."""
    session = service.session_info(session_id)
    client = service.client_info(session.client_id)
    notes = tuple(service.note(n) for n in service.notes_for_session(session_id))
    info, lines, message = None, (), ""
    try:
        info, transcript = service.latest_transcript(session_id)
        lines = tuple(transcript.lines)
    except UserFacingError as exc:
        message = str(exc)
    shown = None
    if notes:
        wanted = note_id if note_id in {n.id for n in notes} else notes[-1].id
        shown = load_note(ctx, service, wanted)
    return SessionView(session, client, notes, shown, info, lines, message)


@dataclass(frozen=True)
class SignPreview:
    """What signing will store, computed from the saved revision (not from the widget)."""

    note: NoteInfo
    client: ClientInfo
    session: SessionInfo
    ai_chars: int
    authored_chars: int

    @property
    def share(self) -> Fraction:
        return Fraction(self.ai_chars, self.authored_chars) if self.authored_chars else Fraction(0)

    @property
    def percent(self) -> str:
        """The share as the dialog, the status line and the export print it (one decimal)."""
        return f"{100 * float(self.share):.1f}%"

    def question(self) -> str:
        who = self.client.code + (f" ({self.client.display_name})" if self.client.display_name else "")
        s = self.session
        return (f"Sign the note of client {who} for the session of {s.session_date} ({s.modality}, "
                f"{s.duration_min} min)?\n\nThe AI wrote {self.percent} of its text ({self.ai_chars} of "
                f"{self.authored_chars} characters); this share is stored with your signature.\n\nYou sign "
                f"revision {self.note.revision} exactly as it is on screen. A signed note is locked; later "
                "changes are dated addenda.")


def prepare_signing(ctx, service, note_id: int, doc: TrackedText) -> SignPreview:
    """Job: save ``doc`` (the editor's document) as the next revision and describe what signing stores."""
    service.save_revision(note_id, doc)
    note = service.note(note_id)
    counts = TrackedText.from_spans(note.text, list(note.spans)).counts()
    ai = counts[SpanKind.ai] + counts[SpanKind.ai_edited]
    session = service.session_info(note.session_id)
    return SignPreview(note, service.client_info(session.client_id), session, ai, ai + counts[SpanKind.human])
