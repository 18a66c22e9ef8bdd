"""What the active drafting model was given for a stored note: read back so a candidate can get the same.

The note's first revision is the AI draft as delivered; its provenance names
the transcript version, the template and the generation options (rewrites per
section, time budget). The candidate gets exactly those; the template is read
from the store by name, and the context says if it changed since.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from medstation.notes.drafting import DraftOptions
from medstation.notes.template_store import TemplateStore
from medstation.notes.templates import NoteTemplate
from medstation.notes.transcript import Transcript, parse_transcript
from medstation.store.tables import NoteRevision, SessionNote, SessionTranscript
from medstation.training.canary.fingerprint import inputs_sha256


@dataclass(frozen=True)
class NoteInputs:
    note_id: int
    session_id: int
    transcript_id: int | None
    transcript_sha256: str
    transcript: Transcript
    template: NoteTemplate
    template_version_at_draft: str
    options: DraftOptions
    active_text: str  # revision 1: the AI draft as the therapist first saw it
    active_model: dict

    def context(self) -> dict:
        return {"note_id": self.note_id, "session_id": self.session_id, "transcript_id": self.transcript_id,
                "template": self.template.name, "template_version": self.template_version_at_draft,
                "template_changed_since": self.template.version != self.template_version_at_draft,
                "max_rewrites": self.options.max_rewrites, "budget_s": self.options.budget_s,
                "active_model": self.active_model}

    def sha256(self) -> str:
        return inputs_sha256({"transcript_sha256": self.transcript_sha256, "template": self.template.name,
                              "template_version": self.template.version, "use_model": self.options.use_model,
                              "max_rewrites": self.options.max_rewrites, "budget_s": self.options.budget_s})


def note_inputs(db, note_id: int) -> NoteInputs:
    """The inputs of note ``note_id``'s AI draft; raises LookupError when the note or its transcript is gone."""
    with db.session() as s:
        note = s.get(SessionNote, note_id)
        first = s.exec(select(NoteRevision).where(NoteRevision.note_id == note_id)
                       .order_by(NoteRevision.number)).first()
        if note is None or first is None:
            raise LookupError(f"note {note_id} has no draft")
        transcript_row = s.get(SessionTranscript, first.transcript_id) if first.transcript_id else None
        if transcript_row is None:
            raise LookupError(f"the transcript of note {note_id} is gone")
        provenance = dict(first.provenance.get("provenance", {}))
        values = (int(note.session_id), note.template, note.template_version, first.text, int(transcript_row.id),
                  transcript_row.sha256, transcript_row.text, bool(transcript_row.roles_swapped))
    session_id, template_name, template_version, active_text, t_id, t_sha, t_text, swapped = values
    transcript = parse_transcript(t_text, "stored.txt")
    if swapped:  # stored labels are as written; roles follow the swap flag (as NotesService reads them)
        transcript = transcript.with_roles_swapped()
    generation = provenance.get("generation", {})
    options = DraftOptions(use_model=True, max_rewrites=int(generation.get("max_rewrites_per_section", 3)),
                           budget_s=float(generation.get("budget_s", DraftOptions().budget_s)))
    return NoteInputs(note_id, session_id, t_id, t_sha, transcript, TemplateStore(db).get(template_name),
                      template_version, options, active_text, dict(provenance.get("model", {})))
