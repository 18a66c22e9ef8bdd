"""What the Notes tab does to the note it shows: save and autosave, regenerate a section, risk flags,
sign-off, addenda, diff and export. Every database call runs in the ``io`` lane (:meth:`NotesTab.run_io`)
with a snapshot of the editor's document, never the document the user is typing into.

Results are bound to the note they were started for: a regenerated section is applied only while the tab
still shows its note (switching cancels the job); saving and autosaving carry the note id they snapshot.

Autosave never loses text: keystrokes between two ticks are coalesced into one snapshot of the latest
buffer (a tick while the previous save runs leaves the buffer dirty for the next one); switching note,
session or tab and closing the window flush at once (:meth:`flush`); a save that failed (a busy
database) marks the buffer dirty again, or, when its note is no longer shown, is retried with the same
snapshot unless a newer one of that note was queued since.
Sign-off first saves the document on screen and computes, from that saved revision, exactly what signing
will store (:func:`~medstation.notes.workspace.prepare_signing`); the dialog names client, session and
that AI share, and the service signs that text or refuses.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidgetItem, QMessageBox

from medstation.notes.records import NoteStatus
from medstation.notes.workspace import SignPreview, prepare_signing
from medstation.ui.errors import report_failure
from medstation.ui.notes.dialogs import DiffDialog, TextDialog

_GENERATION = re.compile(r":g(\d+):\d+$")
AUTOSAVE_RETRY_MS = 2000  # a failed autosave of a note no longer shown is tried again after this
AUTOSAVE_RETRIES = 5


class NoteActions(QObject):
    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.dirty = False
        self.regen_handle = None
        self._autosaving = False
        self._autosave_seq: dict[int, int] = {}  # note id -> number of its newest autosave snapshot
        # note id -> newest revision this tab stored; read and written only by io-lane jobs, which run in order
        self._own_revision: dict[int, int] = {}
        self._undo = None  # the document before the last regeneration ("Undo regenerate")
        self._after_regen = None  # the document right after it: undo only while it is still what is shown

    # --- the view changes -----------------------------------------------------------------------

    def leave_view(self) -> None:
        """Before the tab shows another session or note: stop this note's jobs, keep its typed text."""
        tab = self.tab
        for handle in (tab.draft_handle, self.regen_handle):
            if handle is not None and not handle.finished:
                handle.cancel()  # the runner drops whatever it still sends
        tab.draft_handle, self.regen_handle, self._undo, self._after_regen = None, None, None, None
        self.flush()

    def flush(self) -> None:
        """Autosave now if there are unsaved keystrokes (queued ahead of whatever the tab does next)."""
        if self.dirty:
            self.autosave(force=True)

    def on_edited(self) -> None:
        self.dirty = True
        self.show_share()

    def _editable(self) -> bool:
        tab = self.tab
        if tab.drafting:
            tab.status.setText("A draft is being written: wait for it (nothing can be saved, signed or exported "
                               "from the preview).")
            return False
        return tab.note is not None and tab.note.status is NoteStatus.draft

    # --- saving -----------------------------------------------------------------------------------

    def autosave(self, force: bool = False) -> None:
        tab = self.tab
        if not self.dirty or tab.note is None or tab.note.status is not NoteStatus.draft or tab.drafting:
            return
        if self._autosaving and not force:
            return  # the previous one is still being written; this buffer goes with the next tick
        note_id, revision, snapshot = tab.note.id, tab.note.revision, tab.editor.doc.copy()
        self.dirty, self._autosaving = False, True
        self._submit_autosave(note_id, revision, snapshot, AUTOSAVE_RETRIES)

    def _submit_autosave(self, note_id: int, revision: int, snapshot, retries: int) -> None:
        seq = self._autosave_seq[note_id] = self._autosave_seq.get(note_id, 0) + 1
        tab = self.tab
        handle = tab.run_io(lambda ctx: tab.notes.autosave(note_id, snapshot, revision), title="Autosave",
                            bound=False)
        handle.sig_failed.connect(lambda *_a: self._autosave_failed(note_id, revision, snapshot, seq, retries))
        handle.sig_finished.connect(self._autosave_done)

    def _autosave_done(self) -> None:
        self._autosaving = False

    def _autosave_failed(self, note_id: int, revision: int, snapshot, seq: int, retries: int) -> None:
        """Keep the unsaved text: dirty again while its note is shown, else the same snapshot a little later."""
        if self._autosave_seq.get(note_id) != seq:
            return  # a newer snapshot of this note is on its way
        tab = self.tab
        if tab.note is not None and tab.note.id == note_id:
            self.dirty = True  # the next tick saves the buffer, which holds this text and anything newer
        elif retries > 0:
            QTimer.singleShot(AUTOSAVE_RETRY_MS, self, lambda: self._retry_autosave(note_id, revision, snapshot, seq,
                                                                                     retries - 1))

    def _retry_autosave(self, note_id: int, revision: int, snapshot, seq: int, retries: int) -> None:
        if self._autosave_seq.get(note_id) == seq and not (self.tab.note is not None and self.tab.note.id == note_id):
            self._submit_autosave(note_id, revision, snapshot, retries)

    def _stored(self, note_id: int, number: int) -> int:
        """Io lane: this tab stored revision ``number`` of the note (the base of its next save)."""
        self._own_revision[note_id] = max(number, self._own_revision.get(note_id, 0))
        return number

    def save(self) -> None:
        if not self._editable():
            return
        tab = self.tab
        note_id, base, snapshot = tab.note.id, tab.note.revision, tab.editor.doc.copy()
        self.dirty = False

        def job(ctx):
            # The base is the revision this editor started from, or the one its own earlier save (still on its
            # way when Save was pressed again) stored: only another workstation's revision is a conflict.
            base_now = max(base, self._own_revision.get(note_id, 0))
            number = self._stored(note_id, tab.notes.save_revision(note_id, snapshot, base_revision=base_now))
            return number, tab.notes.note(note_id)

        tab.run_io(job, title="Save", then=self._saved)

    def _saved(self, result) -> None:
        number, note = result
        self.tab.note = note
        self.tab.status.setText(f"Saved revision {number}.")

    # --- regenerate one section -------------------------------------------------------------------

    def regenerate(self) -> None:
        tab = self.tab
        if not self._editable():
            return
        if self.regen_handle is not None:
            tab.status.setText("A section is being regenerated already.")
            return
        key = tab.section_box.currentData()
        answer = QMessageBox.question(tab, "Regenerate section", "Replace the untouched AI text of this section? "
                                      "Text you wrote or edited is kept.")
        if answer != QMessageBox.StandardButton.Yes or tab.note is None:
            return
        generation = 1 + max((int(m.group(1)) for c in tab.editor.evidence for m in [_GENERATION.search(c)] if m),
                             default=0)
        handle = tab.runner.submit("llm", tab.notes.prepare_regeneration, tab.note.id, key, generation,
                                   name="regenerate section")
        handle.sig_progress.connect(lambda _f, m: tab.status.setText(m))
        handle.sig_done.connect(lambda result, h=handle: self._regenerated(h, result))
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(tab, "Regenerating failed", m, tb, exc,
                                                                         tab.status))
        handle.sig_finished.connect(lambda h=handle: self._regen_over(h))
        self.regen_handle = handle

    def _regen_over(self, handle) -> None:
        if handle is self.regen_handle:
            self.regen_handle = None

    def _regenerated(self, handle, result) -> None:
        tab = self.tab
        if handle is not self.regen_handle or tab.note is None or tab.note.id != result.note_id or tab.drafting:
            return  # not for the note on screen (the runner already drops cancelled jobs; this is the guard)
        editor = tab.editor
        self._undo = editor.doc.copy()
        editor.evidence.update(result.evidence)
        editor.fact_flags.update({k: list(v) for k, v in result.fact_flags.items()})
        editor.tracked_edit(lambda: result.apply_to(editor.doc), editor.textCursor().position())
        self._after_regen = list(editor.doc.spans)
        note_id, snapshot = result.note_id, editor.doc.copy()
        self.dirty = False

        def job(ctx):
            number = self._stored(note_id, tab.notes.save_regeneration(note_id, snapshot, result))
            return number, tab.notes.note(note_id)

        tab.run_io(job, title="Save the regenerated section", then=self._saved)
        self.show_share()

    def undo_regenerate(self) -> None:
        """Put back the document as it was before the last regeneration, only while nothing was edited since:
        restoring it then would silently drop what the therapist wrote after regenerating."""
        if self._undo is None or not self._editable():
            return
        editor = self.tab.editor
        if list(editor.doc.spans) != self._after_regen:
            self.tab.status.setText("You have edited the note since regenerating, so Undo regenerate would lose those "
                                    "edits; use Undo (Ctrl+Z) to step back through them instead.")
            return
        spans = list(self._undo.spans)
        editor.tracked_edit(lambda: editor.doc.restore(spans), editor.textCursor().position())
        self._undo = self._after_regen = None
        self.tab.status.setText("Regenerated section taken back (saved with the next autosave).")

    # --- risk flags -------------------------------------------------------------------------------

    def show_risks(self) -> None:
        """The note's current flags (from the latest transcript). When the transcript changed after the note was
        drafted, each flag names the version its line numbers are in (the panel lists the note's own version);
        on a signed note an unacknowledged flag asks for an addendum, since it can no longer be acknowledged."""
        tab = self.tab
        tab.risks.clear()
        if tab.note is None:
            return
        nv, signed = tab.note_view, tab.note.status is NoteStatus.signed
        latest = nv.latest_version if nv is not None and nv.transcript_changed else None
        for flag in tab.note.risk_flags:
            acked = flag["category"] in tab.note.acknowledged
            where = f"lines {flag['lines']}" + (f" of transcript version {latest}" if latest is not None else "")
            if not flag["needs_acknowledgement"]:
                text, colour = f"Documented denial: {flag['label']} ({where})", "#e5e7eb"
            elif acked:
                text, colour = f"Acknowledged: {flag['label']} ({where})", "#dcfce7"
            elif signed:
                text, colour = (f"⚠ {flag['label']} — {flag['status']} ({where}): raised after signing; the "
                                "signed note cannot change, so add an addendum if it matters"), "#fed7aa"
            else:
                text, colour = f"⚠ {flag['label']} — {flag['status']} ({where}): awaiting acknowledgement", "#fecaca"
            item = QListWidgetItem(text + self._mentions(flag))
            item.setToolTip("\n".join(f"line {d['line']}: {d['why']}" for d in flag.get("details", ())))
            item.setData(Qt.ItemDataRole.UserRole, flag["category"])
            item.setBackground(QColor(colour))
            tab.risks.addItem(item)

    def _mentions(self, flag: dict, shown: int = 2) -> str:
        """The lines behind a flag, quoted from the latest transcript, each with why it was raised in short
        (the pattern, or the nearest exemplar and its similarity); the tooltip carries the full reasons."""
        view = getattr(self.tab, "view", None)
        texts = {line.number: line.text for line in (view.lines if view is not None else ())}
        out = []
        for detail in list(flag.get("details", ()))[:shown]:
            quote = texts.get(detail["line"], "")
            cut = "…" if len(quote) > 90 else ""
            quote = f' "{quote[:90]}{cut}"' if quote else ""
            out.append(f"\n    line {detail['line']}{quote}\n    why: {detail['why'].split('; risk probability')[0]}")
        more = len(flag.get("details", ())) - shown
        return "".join(out) + (f"\n    … and {more} more (hover for all)" if more > 0 else "")

    def acknowledge(self) -> None:
        """Acknowledge the flag the user chose in the list; no choice, no acknowledgement."""
        tab = self.tab
        if not self._editable():
            return
        item = tab.risks.currentItem()
        if item is None or not item.isSelected():
            tab.status.setText("Choose the risk flag you are acknowledging in the list first.")
            return
        category, note_id = item.data(Qt.ItemDataRole.UserRole), tab.note.id
        flag = next((f for f in tab.note.risk_flags if f["category"] == category), None)
        if flag is None or not flag["needs_acknowledgement"] or category in tab.note.acknowledged:
            tab.status.setText("That flag needs no acknowledgement.")
            return

        def job(ctx):
            tab.notes.acknowledge_risk(note_id, category)
            return tab.notes.note(note_id)

        tab.run_io(job, title="Acknowledge risk", then=self._acknowledged)

    def _acknowledged(self, note) -> None:
        self.tab.note = note
        self.show_risks()
        self.tab.status.setText("Risk flag acknowledged.")

    def show_share(self) -> None:
        tab = self.tab
        share = float(tab.editor.doc.ai_share())
        state = "signed" if tab.note and tab.note.status is NoteStatus.signed else "draft"
        tab.share.setText(f"Note {state} · written by the AI: {100 * share:.1f}% of the text")

    # --- sign-off ---------------------------------------------------------------------------------

    def sign(self) -> None:
        tab = self.tab
        if not self._editable():
            return
        note_id, snapshot = tab.note.id, tab.editor.doc.copy()
        self.dirty = False

        def job(ctx):
            preview = prepare_signing(ctx, tab.notes, note_id, snapshot)
            self._stored(note_id, preview.note.revision)
            return preview

        tab.run_io(job, title="Sign", then=self._ask_sign)

    def _ask_sign(self, preview: SignPreview) -> None:
        tab = self.tab
        tab.note = preview.note
        pending = preview.note.pending_risks
        if pending:
            names = ", ".join(f"{f['label']} (lines {f['lines']})" for f in pending)
            tab.status.setText(f"Not signed: acknowledge the risk flag(s) first — {names}. Choose each flag in "
                               "the list and press Acknowledge risk.")
            self.show_risks()
            return
        answer = QMessageBox.question(tab, "Sign note", preview.question())
        if answer != QMessageBox.StandardButton.Yes:
            tab.status.setText("Not signed.")
            return
        note_id, text = preview.note.id, preview.note.text  # exactly what the question was asked about
        tab.run_io(lambda ctx: tab.notes.sign(note_id, text), title="Sign", bound=False,
                   then=lambda share: self._signed(preview, share))

    def _signed(self, preview: SignPreview, share: float) -> None:
        tab = self.tab
        message = (f"Signed note {preview.note.id} of client {preview.client.code}, session "
                   f"{preview.session.session_date}. AI share stored: {100 * share:.1f}%.")
        if tab.note is not None and tab.note.id == preview.note.id:
            tab.open_session(preview.note.session_id, preview.note.id, message=message)
        else:
            tab.status.setText(message)
        tab.candidates.after_sign(preview.note.id)

    def addendum(self) -> None:
        tab = self.tab
        if tab.note is None or tab.note.status is not NoteStatus.signed:
            return
        dialog = TextDialog("Addendum", "A dated addition to the signed note.", parent=tab)
        if dialog.exec():
            note_id, text = tab.note.id, dialog.text()
            tab.run_io(lambda ctx: tab.notes.add_addendum(note_id, text), title="Addendum",
                       then=lambda _r: tab.open_session(tab.session_id, note_id, message="Addendum added."))

    def show_diff(self) -> None:
        tab = self.tab
        if tab.note is not None:
            note_id = tab.note.id
            tab.run_io(lambda ctx: tab.notes.revisions(note_id), title="Revisions",
                       then=lambda revisions: DiffDialog(revisions, tab).open())

    # --- export -----------------------------------------------------------------------------------

    def _export(self, fmt: str) -> None:
        tab = self.tab
        if tab.note is None or tab.drafting:
            return
        self.flush()
        note_id, directory = tab.note.id, tab.notes.settings.exports_dir
        tab.run_io(lambda ctx: tab.notes.export_note(note_id, fmt, directory), title="Export", bound=False,
                   then=lambda path: tab.status.setText(f"Exported {path}"))

    def export_text(self) -> None:
        self._export("txt")

    def export_pdf(self) -> None:
        self._export("pdf")
