"""Sign-off, addenda and export of a note: the part of :class:`~medstation.notes.service.NotesService` that
takes a note out of the draft state or out of the workstation.

``NoteSignOff`` is a mixin: it relies on the service's ``session`` (a :class:`UserSession`), ``db`` and its
reading methods ``note``, ``session_info`` and ``client_info``. Sign-off is refused while a current risk flag
is unacknowledged or the note no longer states a present or unclear risk; signing stores the text, its
SHA-256 and the AI share exactly as shown.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from sqlmodel import select

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.fileio import atomic_write
from medstation.notes.export import export_bytes
from medstation.notes.records import NoteLocked, NoteStatus, SignOffBlocked
from medstation.notes.risk_coverage import unstated_message
from medstation.notes.spans import TrackedText
from medstation.store.engine import row_lock_key
from medstation.store.objects import put_object, read_verified
from medstation.store.tables import AuditEvent, NoteAddendum, NoteRevision, NoteRiskAcknowledgement, SessionNote


def now() -> datetime:
    return datetime.now(timezone.utc)


class NoteSignOff:
    """Risk acknowledgement, signing, addenda and export (permission-checked and audited)."""

    def acknowledge_risk(self, note_id: int, category: str, comment: str = "") -> None:
        """Acknowledge the current flag of ``category`` (the caller must name one: there is no default)."""
        actor = self.session.require(Permission.edit_notes)
        if not category:
            raise UserFacingError("Choose the risk flag to acknowledge first.")
        note = self.note(note_id)
        flag = next((f for f in note.risk_flags if f["category"] == category), None)
        if flag is None:
            raise UserFacingError(f"This note has no {category} flag (the transcript may have changed).")
        if not flag["needs_acknowledgement"]:
            raise UserFacingError(f"The {flag['label']} flag is a documented denial; it needs no acknowledgement.")
        with self.db.session() as s:
            s.add(NoteRiskAcknowledgement(note_id=note_id, category=category, status=flag["status"],
                                          lines=list(flag["lines"]), acknowledged_by=actor.name, comment=comment))
            self.db.audit("notes.risk.acknowledge", actor=actor.name, entity="session_note", entity_id=note_id,
                          category=category, session=s)

    def sign(self, note_id: int, shown_text: str) -> float:
        """Sign the note as shown; returns the AI share stored with it. Refused while a risk is unacknowledged
        or when ``shown_text`` is not the last saved revision (save first)."""
        actor = self.session.require(Permission.sign_notes)
        note = self.note(note_id)
        if note.status is NoteStatus.signed:
            raise NoteLocked("This note is already signed.")
        if note.pending_risks:
            names = ", ".join(f["label"] for f in note.pending_risks)
            raise SignOffBlocked(f"Acknowledge the risk flag(s) first: {names}.")
        if note.unstated_risks:
            raise SignOffBlocked(unstated_message(list(note.unstated_risks)))
        if shown_text != note.text:
            raise SignOffBlocked("The text on screen differs from the last saved revision; save it before signing.")
        share = float(TrackedText.from_spans(note.text, list(note.spans)).ai_share())
        with self.db.write_session(row_lock_key("session_note", note_id)) as s:
            n = s.get(SessionNote, note_id)
            latest = s.exec(select(NoteRevision.number).where(NoteRevision.note_id == note_id)
                            .order_by(NoteRevision.number.desc())).first()
            if n.status == NoteStatus.signed.value:  # signed meanwhile, on another workstation
                raise NoteLocked(f"{n.signed_by} signed this note meanwhile; it was not signed again.")
            if latest != note.revision:
                raise SignOffBlocked(f"Revision {latest} of this note was saved on another workstation while you "
                                     f"were signing revision {note.revision}; reopen it and sign what is current.")
            n.status, n.signed_by, n.signed_at = NoteStatus.signed.value, actor.name, now()
            n.signed_text, n.signed_sha256 = note.text, hashlib.sha256(note.text.encode()).hexdigest()
            n.ai_share_at_signing, n.signed_revision = share, note.revision
            s.add(n)
            self.db.audit("notes.sign", actor=actor.name, entity="session_note", entity_id=note_id,
                          ai_share=share, revision=note.revision, session=s)
        return share

    def add_addendum(self, note_id: int, text: str) -> None:
        actor = self.session.require(Permission.sign_notes)
        if not text.strip():
            raise UserFacingError("An addendum needs some text.")
        if self.note(note_id).status is not NoteStatus.signed:
            raise UserFacingError("Addenda are for signed notes; edit the draft instead.")
        with self.db.session() as s:
            s.add(NoteAddendum(note_id=note_id, author=actor.name, text=text.strip()))
            self.db.audit("notes.addendum", actor=actor.name, entity="session_note", entity_id=note_id,
                          session=s)

    def export_note(self, note_id: int, fmt: str, directory: Path) -> Path:
        """Write the note as ``txt`` or ``pdf`` under ``directory``; permission-checked and audited.

        Exporting takes a note out of the workstation, so it needs ``sign_notes`` (the clinician who may
        sign it), not just ``view_notes``; the audit event names the file, its SHA-256 and the note status.
        In clinic mode (``shared_data_root``) the export is also kept content-addressed in the shared root
        (the event's ``object``), so any workstation can read it back verified (:meth:`read_export`).
        """
        actor = self.session.require(Permission.sign_notes)
        if fmt not in ("txt", "pdf"):
            raise UserFacingError(f"Notes export as txt or pdf, not {fmt!r}.")
        note = self.note(note_id)
        session = self.session_info(note.session_id)
        client = self.client_info(session.client_id)
        data = export_bytes(note, session, client.code, fmt)
        path = atomic_write(Path(directory) / f"note_{note_id}.{fmt}", data)
        shared_root = getattr(self.settings, "shared_data_root", None)
        kept = put_object(shared_root, data, f".{fmt}").relpath if shared_root is not None else ""
        self.db.audit("notes.export", actor=actor.name, entity="session_note", entity_id=note_id, format=fmt,
                      path=str(path), sha256=hashlib.sha256(data).hexdigest(), object=kept,
                      status=note.status.value, revision=note.revision)
        return path

    def read_export(self, note_id: int) -> bytes:
        """The bytes of the note's latest export, verified against the sha256 its audit event recorded: the
        shared root's copy in clinic mode (any workstation), else the exported file. Raises
        :class:`~medstation.store.objects.FileIntegrityError` when it is missing or changed."""
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            event = s.exec(select(AuditEvent).where(AuditEvent.action == "notes.export",
                                                    AuditEvent.entity == "session_note",
                                                    AuditEvent.entity_id == str(note_id))
                           .order_by(AuditEvent.id.desc())).first()
            detail = dict(event.detail) if event is not None else None
        if detail is None:
            raise UserFacingError(f"Note {note_id} has not been exported.")
        shared_root = getattr(self.settings, "shared_data_root", None)
        if detail.get("object"):
            if shared_root is None:
                raise UserFacingError("This export is kept in the clinic's shared data root, which is not set on "
                                      "this workstation (shared_data_root).")
            path = Path(shared_root) / detail["object"]
        else:
            path = Path(detail["path"])
        return read_verified(path, detail["sha256"], what="note export")
