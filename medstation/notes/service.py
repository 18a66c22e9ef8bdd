"""``NotesService``: clients, sessions, transcripts, drafts, revisions, sign-off — with permissions enforced here.

Permissions: reading needs ``view_notes``; importing, drafting, editing and
acknowledging need ``edit_notes``; signing and addenda need ``sign_notes``.
Every write is one short transaction (SQLite ``synchronous=FULL``), so a
revision that :meth:`save_revision` returned is on disk. The editor's buffer
goes to :meth:`autosave` every second (one row per note, replaced in place).

Crash-safe ordering: a revision row is inserted and committed before the
autosave row is cleared, so a kill between the two leaves the revision and a
stale autosave (offered for recovery, never lost work).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import select

from medstation.access.roles import Permission, UserSession
from medstation.errors import UserFacingError
from medstation.notes.draft import Draft
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.records import (ClientInfo, NoteConflict, NoteInfo, NoteLocked, NoteStatus, RevisionInfo,
                                      SessionInfo, TranscriptInfo, tracked_from_draft)
from medstation.notes.regeneration import RegeneratedSection, merged_links, regenerated_section
from medstation.notes.risk_flags_current import acknowledged_categories, current_flags, unstated_risks
from medstation.notes.signoff import NoteSignOff, now as _now
from medstation.notes.spans import TrackedText
from medstation.notes.template_store import TemplateStore
from medstation.notes.transcript_versions import TranscriptVersions
from medstation.store.database import Database
from medstation.store.engine import row_lock_key
from medstation.store.tables import (NoteAddendum, NoteAutosave, NoteRevision, NoteRiskAcknowledgement,
                                     NotesClient, SessionNote, SessionTranscript, TherapySession)


def _iso_date(text: str) -> str:
    """``text`` as a YYYY-MM-DD calendar date (sessions sort, summarise and sign by it), else a clear refusal."""
    text = (text or "").strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise UserFacingError(f"{text!r} is not a session date: write the date as YYYY-MM-DD, e.g. "
                              f"{dt.date.today().isoformat()}.") from None


@dataclass(frozen=True)
class PreparedDraft:
    """A draft made for a session but not stored yet (blind preference shows two before one is kept)."""

    session_id: int
    transcript: TranscriptInfo
    template_name: str
    template_version: str
    draft: Draft
    model_info: dict  # who wrote it: version_id, name, file (adapter)



def _name_loaded_file(info: dict, backend) -> None:
    """Name the draft's model after the file the loaded backend reads (a server backend has none)."""
    path = getattr(backend, "path", None)
    if isinstance(path, Path):
        info["name"], info["file"] = path.stem, path.name

class NotesService(TranscriptVersions, NoteSignOff):
    """The Notes domain API. Transcript versions come from :class:`TranscriptVersions`; sign-off, addenda and
    export from :class:`NoteSignOff`."""

    def __init__(self, settings, db: Database, session: UserSession, llm=None) -> None:
        self.settings, self.db, self.session, self.llm = settings, db, session, llm
        self.templates = TemplateStore(db)

    # --- clients and sessions --------------------------------------------------------------------

    def create_client(self, code: str, display_name: str = "") -> ClientInfo:
        actor = self.session.require(Permission.edit_notes)
        code = code.strip()
        if not code:
            raise UserFacingError("A client needs a code.")
        with self.db.session() as s:
            if s.exec(select(NotesClient).where(NotesClient.code == code)).first() is not None:
                raise UserFacingError(f"A client with code {code!r} already exists.")
            row = NotesClient(code=code, display_name=display_name.strip())
            s.add(row)
            s.flush()
            info = ClientInfo(row.id, row.code, row.display_name)
            self.db.audit("notes.client.create", actor=actor.name, entity="notes_client", entity_id=info.id,
                          session=s)
        return info

    def clients(self) -> list[ClientInfo]:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            return [ClientInfo(r.id, r.code, r.display_name)
                    for r in s.exec(select(NotesClient).where(NotesClient.archived == False).order_by(NotesClient.code))]  # noqa: E712

    def create_session(self, client_id: int, session_date: str, *, duration_min: int = 50,
                       modality: str = "individual", clinician: str = "") -> SessionInfo:
        """A new session on ``session_date`` (a calendar date written YYYY-MM-DD; anything else is refused)."""
        actor = self.session.require(Permission.edit_notes)
        session_date = _iso_date(session_date)
        with self.db.session() as s:
            if s.get(NotesClient, client_id) is None:
                raise UserFacingError(f"Client {client_id} does not exist.")
            row = TherapySession(client_id=client_id, session_date=session_date, duration_min=duration_min,
                                 modality=modality, clinician=clinician or actor.name)
            s.add(row)
            s.flush()
            return SessionInfo(row.id, client_id, row.session_date, row.duration_min, row.modality, row.clinician)

    def sessions(self, client_id: int) -> list[SessionInfo]:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            rows = s.exec(select(TherapySession).where(TherapySession.client_id == client_id)
                          .order_by(TherapySession.session_date, TherapySession.id))
            return [SessionInfo(r.id, r.client_id, r.session_date, r.duration_min, r.modality, r.clinician)
                    for r in rows]

    # --- drafting (llm lane) ---------------------------------------------------------------------

    def _backend_factory(self):
        if self.llm is None:
            return None, {}
        path = self.llm.model_path()
        info = {"version_id": None, "name": path.stem if path else "", "file": path.name if path else None}

        def factory():
            backend, info["version_id"] = self.llm.loaded_model()  # one read: the model that writes is the one named
            _name_loaded_file(info, backend)
            return backend
        return factory, info

    def prepare_draft(self, ctx, session_id: int, template_name: str, options: DraftOptions = DraftOptions(), *,
                      backend_factory=None, model_info: dict | None = None) -> PreparedDraft:
        """Job: draft ``template_name`` from the session's latest transcript without storing it.

        ``backend_factory``/``model_info``: another model (a registry candidate, for blind preference);
        default the model the app uses now. :meth:`store_draft` keeps it.
        """
        self.session.require(Permission.edit_notes)
        info, transcript = self.latest_transcript(session_id)
        template = self.templates.get(template_name)
        if backend_factory is None:
            backend_factory, model_info = self._backend_factory()
        model_info = model_info if model_info is not None else {}
        draft = draft_note(ctx, transcript, template, backend_factory=backend_factory, model_info=model_info,
                           options=options, transcript_version_id=info.id)
        return PreparedDraft(session_id, info, template.name, template.version, draft, dict(model_info))

    def store_draft(self, prepared: PreparedDraft, **audit_detail) -> NoteInfo:
        """Store a prepared draft as a new note's revision 1 (its provenance names the model that wrote it)."""
        actor = self.session.require(Permission.edit_notes)
        draft, info = prepared.draft, prepared.transcript
        doc = tracked_from_draft(draft, author=f"model:{prepared.model_info.get('name') or 'extractive'}",
                                 at=_now().isoformat())
        with self.db.session() as s:
            note = SessionNote(session_id=prepared.session_id, template=prepared.template_name,
                               template_version=prepared.template_version)
            s.add(note)
            s.flush()
            s.add(NoteRevision(note_id=note.id, number=1, kind="draft", author=actor.name, text=doc.text,
                               spans=doc.span_dicts(), ops=doc.ops, transcript_id=info.id, provenance=draft.to_dict()))
            note_id = note.id
            self.db.audit("notes.draft", actor=actor.name, entity="session_note", entity_id=note_id,
                          template_version=prepared.template_version, transcript_sha256=info.sha256,
                          fallback=draft.fallback, model=prepared.model_info, **audit_detail, session=s)
        return self.note(note_id)

    def draft(self, ctx, session_id: int, template_name: str, options: DraftOptions = DraftOptions()) -> NoteInfo:
        """Job: draft a new note for the session's latest transcript and store it as revision 1."""
        return self.store_draft(self.prepare_draft(ctx, session_id, template_name, options))

    def prepare_regeneration(self, ctx, note_id: int, section_key: str, generation: int,
                             options: DraftOptions = DraftOptions()) -> RegeneratedSection:
        """Job: redraft one section from the transcript version the note was drafted from.

        Returns the new chunks with their evidence and fact flags; the caller applies them to the document
        it shows (never a document another thread edits) and stores it with :meth:`save_regeneration`.
        """
        self.session.require(Permission.edit_notes)
        note = self.note(note_id)
        if note.status is NoteStatus.signed:
            raise NoteLocked("This note is signed; add an addendum instead.")
        transcript_id = self.note_transcript_id(note_id)
        if transcript_id is not None:
            _, transcript = self.transcript_version(transcript_id)
        else:
            _, transcript = self.latest_transcript(note.session_id)
        template = self.templates.get(note.template)
        factory, model_info = self._backend_factory()
        draft = draft_note(ctx, transcript, template, backend_factory=factory, model_info=model_info, options=options,
                           transcript_version_id=transcript_id)
        return regenerated_section(draft, note_id, section_key, generation=generation,
                                   author=f"model:{model_info.get('name') or 'extractive'}", at=_now().isoformat(),
                                   transcript_id=transcript_id, original=note.draft)

    def save_regeneration(self, note_id: int, doc: TrackedText, regenerated: RegeneratedSection) -> int:
        """Store ``doc`` (with ``regenerated`` applied) as a ``regenerate`` revision carrying its provenance."""
        self.session.require(Permission.edit_notes)
        if regenerated.note_id != note_id:
            raise UserFacingError("This regenerated section belongs to another note; nothing was stored.")
        return self.save_revision(note_id, doc, kind="regenerate", provenance=regenerated.provenance(), audit=(
            "notes.regenerate", {"section": regenerated.section, "chunks": len(regenerated.chunks),
                                 "model": regenerated.draft_provenance.get("model", {}),
                                 "transcript_version_id": regenerated.transcript_id}))

    def regenerate_section(self, ctx, note_id: int, section_key: str, doc: TrackedText,
                           options: DraftOptions = DraftOptions()) -> TrackedText:
        """Job (scripts): redraft one section into ``doc``; only its untouched AI text is replaced."""
        self.prepare_regeneration(ctx, note_id, section_key, len(doc.ops), options).apply_to(doc)
        return doc

    # --- notes and revisions ---------------------------------------------------------------------

    def notes_for_session(self, session_id: int) -> list[int]:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            return [n.id for n in s.exec(select(SessionNote).where(SessionNote.session_id == session_id)
                                         .order_by(SessionNote.id))]

    def note(self, note_id: int) -> NoteInfo:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            n = s.get(SessionNote, note_id)
            if n is None:
                raise UserFacingError(f"Note {note_id} does not exist.")
            revs = s.exec(select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.number)).all()
            acks = s.exec(select(NoteRiskAcknowledgement).where(NoteRiskAcknowledgement.note_id == note_id)).all()
            adds = s.exec(select(NoteAddendum).where(NoteAddendum.note_id == note_id).order_by(NoteAddendum.id)).all()
            first, last = revs[0], revs[-1]
            latest = s.exec(select(SessionTranscript).where(SessionTranscript.session_id == n.session_id)
                            .order_by(SessionTranscript.version.desc())).first()
            addenda = tuple((a.author, a.created_at, a.text) for a in adds)
            info = NoteInfo(n.id, n.session_id, n.template, NoteStatus(n.status), last.number, last.text,
                            tuple(last.spans), dict(first.provenance), (), n.signed_by, n.signed_at,
                            n.ai_share_at_signing, addenda)
            ack_rows = [(a.category, a.status, tuple(a.lines), a.acknowledged_at) for a in acks]
        # Risk flags always come from the session's latest transcript, so an edit, a speaker swap or a
        # re-import that adds a risk is flagged at once; an acknowledgement counts for the transcript it saw.
        flags = current_flags(latest.text, latest.roles_swapped) if latest is not None else None
        if flags is None:
            flags = tuple(info.risk_flags)
        acked = acknowledged_categories(flags, ack_rows, latest.created_at if latest is not None else None)
        body = "\n".join([info.text, *(text for _, _, text in addenda)])
        return replace(info, acknowledged=acked, current_risk_flags=flags, unstated_risks=unstated_risks(flags, body))

    def revisions(self, note_id: int) -> list[RevisionInfo]:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            rows = s.exec(select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.number))
            return [RevisionInfo(r.number, r.kind, r.author, r.created_at, r.text, tuple(r.spans),
                                 float(TrackedText.from_spans(r.text, r.spans).ai_share())) for r in rows]

    def save_revision(self, note_id: int, doc: TrackedText, kind: str = "edit", *,
                      provenance: dict | None = None, audit: tuple[str, dict] | None = None,
                      base_revision: int | None = None) -> int:
        """Store ``doc`` as the next revision (with the ops since the last one); returns its number.

        An unchanged document stores nothing (the last number is returned), unless it carries ``provenance``.
        ``audit`` = (action, details): the event is written in the revision's own transaction.
        ``base_revision``: the revision the editor started from; if another workstation saved a later one
        meanwhile, :class:`NoteConflict` refuses the save (its revision is never silently overwritten).
        The note is locked for the transaction (:func:`~medstation.store.engine.row_lock_key`)."""
        actor = self.session.require(Permission.edit_notes)
        with self.db.write_session(row_lock_key("session_note", note_id)) as s:
            n = s.get(SessionNote, note_id)
            if n is None:
                raise UserFacingError(f"Note {note_id} does not exist.")
            if n.status == NoteStatus.signed.value:
                raise NoteLocked("This note is signed; changes go into a dated addendum.")
            last = s.exec(select(NoteRevision).where(NoteRevision.note_id == note_id)
                          .order_by(NoteRevision.number.desc())).first()
            if base_revision is not None and last.number != base_revision:
                raise NoteConflict(f"{last.author} saved revision {last.number} of this note on another workstation "
                                   f"after revision {base_revision} that you are editing; nothing was overwritten. "
                                   "Copy your changes, reopen the note and apply them again.")
            if last.text == doc.text and last.spans == doc.span_dicts() and not provenance:
                return last.number
            number = last.number + 1
            s.add(NoteRevision(note_id=note_id, number=number, kind=kind, author=actor.name, text=doc.text,
                               spans=doc.span_dicts(), ops=doc.ops[len(last.ops):] if kind != "draft" else doc.ops,
                               transcript_id=last.transcript_id, provenance=dict(provenance or {})))
            if audit is not None:
                action, details = audit
                self.db.audit(action, actor=actor.name, entity="session_note", entity_id=note_id,
                              revision=number, **details, session=s)
        with self.db.session() as s:  # only after the revision is committed
            row = s.exec(select(NoteAutosave).where(NoteAutosave.note_id == note_id)).first()
            if row is not None:
                s.delete(row)
        return number

    def autosave(self, note_id: int, doc: TrackedText, base_revision: int) -> None:
        """The editor buffer, replaced in place (at most one row per note)."""
        self.session.require(Permission.edit_notes)
        with self.db.session() as s:
            row = s.exec(select(NoteAutosave).where(NoteAutosave.note_id == note_id)).first()
            row = row or NoteAutosave(note_id=note_id)
            row.text, row.spans, row.base_revision, row.saved_at = doc.text, doc.span_dicts(), base_revision, _now()
            s.add(row)

    def recover_autosave(self, note_id: int) -> TrackedText | None:
        """The autosaved buffer if it differs from the last revision (after a crash), else None."""
        note = self.note(note_id)
        with self.db.session() as s:
            row = s.exec(select(NoteAutosave).where(NoteAutosave.note_id == note_id)).first()
            if row is None or row.text == note.text:
                return None
            return TrackedText.from_spans(row.text, row.spans)

    def tracked(self, note_id: int) -> TrackedText:
        note = self.note(note_id)
        return TrackedText.from_spans(note.text, list(note.spans))

    def session_info(self, session_id: int) -> SessionInfo:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            r = s.get(TherapySession, session_id)
            if r is None:
                raise UserFacingError(f"Session {session_id} does not exist.")
            return SessionInfo(r.id, r.client_id, r.session_date, r.duration_min, r.modality, r.clinician)

    def client_info(self, client_id: int) -> ClientInfo:
        self.session.require(Permission.view_notes)
        with self.db.session() as s:
            r = s.get(NotesClient, client_id)
            if r is None:
                raise UserFacingError(f"Client {client_id} does not exist.")
            return ClientInfo(r.id, r.code, r.display_name)

    def note_links(self, note_id: int) -> tuple[dict[str, list[int]], dict[str, list[tuple[int, int]]]]:
        """Evidence lines and fact-flag ranges per chunk id, for the draft and every regenerated section."""
        note = self.note(note_id)
        with self.db.session() as s:
            provenances = [dict(r.provenance or {}) for r in s.exec(
                select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.number))]
        return merged_links(provenances[1:], note.draft)

    def close(self) -> None:
        """Nothing to release: the database and the LLM belong to the composition root."""
