"""The Notes tab's "Draft note": ask before adding a note to a session that has one, stream a preview,
and send the stored draft only to the view it was started for.

While a draft streams, ``tab.draft_handle`` is its job and the editor shows a read-only preview that is
not a document (nothing can be saved, signed, regenerated or exported; :meth:`NotesTab.update_buttons`).
The stored draft is shown only if the handle is still the tab's (switching session cancels it; a draft
already stored stays with its own session). A failed or cancelled draft reopens the session from the
database, so the preview goes and no text of it is ever attributed to anyone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from medstation.notes.records import NoteInfo, NoteStatus
from medstation.notes.spans import TrackedText
from medstation.ui.errors import report_failure


class DraftFlow(QObject):
    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab

    def draft(self) -> None:
        tab = self.tab
        if tab.session_id is None:
            tab.status.setText("Choose a session with a transcript first.")
            return
        if tab.drafting:
            return
        existing = tab.view.notes if tab.view is not None and tab.view.session.id == tab.session_id else ()
        if existing:
            signed = sum(1 for n in existing if n.status is NoteStatus.signed)
            answer = QMessageBox.question(
                tab, "Draft another note",
                f"This session already has {len(existing)} note(s), {signed} of them signed. Draft a new note "
                "anyway? The existing notes stay listed and unchanged.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        template = tab.template_box.currentText() or "soap"
        tab.actions.leave_view()
        tab._view += 1
        tab.note, tab.note_view = None, None
        tab.editor.set_tracked(TrackedText(), {}, {})
        tab.editor.setReadOnly(True)  # a preview, not a document: nothing typed here could be kept
        tab.risks.clear()
        handle = tab.candidates.draft(template)
        if handle is None:
            handle = tab.runner.submit("llm", tab.notes.draft, tab.session_id, template, name="draft note")
            handle.sig_partial.connect(lambda event, h=handle: self._on_draft_partial(h, event))
            handle.sig_progress.connect(lambda _f, m: tab.status.setText(m))
            handle.sig_done.connect(lambda note, h=handle: self.drafted(h, note))
            handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(tab, "Drafting failed", m, tb, exc,
                                                                            tab.status))
        handle.sig_failed.connect(lambda *_a, h=handle: self.draft_ended(h, "Drafting failed; nothing of it was "
                                                                           "kept."))
        handle.sig_cancelled.connect(lambda h=handle: self.draft_ended(h, "Drafting cancelled; nothing was kept."))
        tab.draft_handle = handle
        tab.update_buttons()

    def _on_draft_partial(self, handle, event) -> None:
        tab = self.tab
        if handle is not tab.draft_handle:
            return
        cursor = tab.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        tab.editor._applying = True  # streamed preview: replaced by the stored note (or the old one) at the end
        try:
            if event.kind == "section":
                cursor.insertText(("\n" if tab.editor.toPlainText() else "") + event.text.upper() + "\n")
            elif event.kind == "sentence":
                cursor.insertText(event.text + "\n")
        finally:
            tab.editor._applying = False

    def drafted(self, handle, note: NoteInfo, message: str = "") -> None:
        """A draft was stored: show it if it is this view's draft (else it stays with its own session)."""
        tab = self.tab
        if handle is not tab.draft_handle:
            return
        tab.draft_handle = None
        tab.open_session(note.session_id, note.id, message=message)
        tab.candidates.after_draft(note)

    def draft_ended(self, handle, message: str) -> None:
        """A draft failed or was cancelled: put back what the session had (the preview goes)."""
        tab = self.tab
        if handle is not tab.draft_handle:
            return
        tab.draft_handle = None
        text = tab.status.text()
        tab.open_session(tab.session_id, message=f"{message} {text}".strip())
