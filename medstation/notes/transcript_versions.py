"""The transcript versions of a session: import, speaker swap, recordings, lookup by version.

``TranscriptVersions`` is a mixin of :class:`~medstation.notes.service.NotesService` (it relies on the
service's ``session`` and ``db``). Every import or swap stores a new version (never overwrites one), so a
note keeps pointing at the text it was drafted from; stored speaker labels stay as written and the
``roles_swapped`` flag says how to read them.
"""

from __future__ import annotations

from sqlmodel import select

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.notes.records import TranscriptInfo
from medstation.notes.transcript import Transcript, parse_transcript
from medstation.store.tables import AuditEvent, NoteRevision, SessionTranscript, TherapySession


def transcript_info(row: SessionTranscript) -> TranscriptInfo:
    return TranscriptInfo(row.id, row.session_id, row.version, row.source_format, row.source_name, row.sha256,
                          row.roles_swapped, row.text)


class TranscriptVersions:
    """Transcript versions of a session (permission-checked; each save audited)."""

    def import_transcript(self, session_id: int, data: bytes | str, filename: str = "") -> TranscriptInfo:
        """Parse first (raises TranscriptError, nothing stored), then store as the next version."""
        self.session.require(Permission.edit_notes)
        transcript = parse_transcript(data, filename)
        return self._store_transcript(session_id, transcript, filename or "pasted")

    def swap_speakers(self, session_id: int) -> TranscriptInfo:
        self.session.require(Permission.edit_notes)
        info, transcript = self.latest_transcript(session_id)
        return self._store_transcript(session_id, transcript.with_roles_swapped(), info.source_name,
                                      self.transcript_recording(info.id) or None)

    def _store_transcript(self, session_id: int, transcript: Transcript, name: str,
                          recording: dict | None = None) -> TranscriptInfo:
        actor = self.session.require(Permission.edit_notes)
        with self.db.session() as s:
            if s.get(TherapySession, session_id) is None:
                raise UserFacingError(f"Session {session_id} does not exist.")
            last = s.exec(select(SessionTranscript).where(SessionTranscript.session_id == session_id)
                          .order_by(SessionTranscript.version.desc())).first()
            row = SessionTranscript(session_id=session_id, version=(last.version + 1) if last else 1,
                                    source_format=transcript.source_format, source_name=name,
                                    text=transcript.to_text(), sha256=transcript.sha256,
                                    roles_swapped=transcript.roles_swapped, created_by=actor.name)
            s.add(row)
            s.flush()
            info = transcript_info(row)
            self.db.audit("notes.transcript.save", actor=actor.name, entity="session_transcript", entity_id=info.id,
                          version=info.version, sha256=info.sha256, **({"recording": recording} if recording else {}),
                          session=s)
        return info

    def latest_transcript(self, session_id: int) -> tuple[TranscriptInfo, Transcript]:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            row = s.exec(select(SessionTranscript).where(SessionTranscript.session_id == session_id)
                         .order_by(SessionTranscript.version.desc())).first()
            if row is None:
                raise UserFacingError("This session has no transcript yet: import or paste one first.")
            info = transcript_info(row)
        transcript = parse_transcript(info.text, "stored.txt")
        if info.roles_swapped:  # stored labels are as written; roles follow the swap flag
            transcript = transcript.with_roles_swapped()
        return info, transcript

    def import_recording_transcript(self, session_id: int, text: str, name: str, recording: dict) -> TranscriptInfo:
        """A speech-recognition transcript (``[speaker] text`` lines) stored as the next version, with the
        recording's provenance (file hash, model, language, timing) in the same transaction's audit event."""
        self.session.require(Permission.edit_notes)
        transcript = parse_transcript(text, "recording.txt")
        return self._store_transcript(session_id, Transcript(transcript.lines, "audio"), name, recording)

    def transcript_recording(self, transcript_id: int) -> dict:
        """The recording provenance stored with transcript version ``transcript_id`` ({} if typed or imported)."""
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            row = s.exec(select(AuditEvent).where(AuditEvent.action == "notes.transcript.save",
                                                  AuditEvent.entity_id == str(transcript_id))).first()
            return dict(row.detail.get("recording", {})) if row is not None else {}

    def transcript_version(self, transcript_id: int) -> tuple[TranscriptInfo, Transcript]:
        """One stored transcript version (roles as stored), e.g. the one a note was drafted from."""
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            row = s.get(SessionTranscript, transcript_id)
            if row is None:
                raise UserFacingError(f"Transcript version {transcript_id} does not exist.")
            info = transcript_info(row)
        transcript = parse_transcript(info.text, "stored.txt")
        return info, (transcript.with_roles_swapped() if info.roles_swapped else transcript)

    def note_transcript_id(self, note_id: int) -> int | None:
        """The transcript version the note was drafted from (its first revision's)."""
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            first = s.exec(select(NoteRevision).where(NoteRevision.note_id == note_id)
                           .order_by(NoteRevision.number)).first()
            return first.transcript_id if first is not None else None
