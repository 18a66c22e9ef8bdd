"""Notes tab: clients → sessions → every note of the session, the transcript, the tracked note editor.

The widget gathers input and shows results; every decision (what is stored, what may be signed, which
text is AI) is made by :class:`~medstation.notes.service.NotesService`, and every database call runs in
the ``io`` lane (:meth:`NotesTab.run_io`), autosave included, so typing never waits for a disk.

Where results go (``_view``): the tab shows one *view* (a session and one of its notes); opening another
session or note starts a new view, cancels the drafting and regenerating jobs of the old one (their
results are dropped by the runner) and drops late io results meant for it. A draft that was already
stored stays with its own session. While a draft streams, the editor shows a read-only preview that is
not a document: nothing can be saved, signed, regenerated or exported, and a failed or cancelled draft
puts back the note that was there (from the database), so no preview text is ever attributed to anyone.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QSplitter, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from medstation.notes.records import NoteInfo, NoteStatus
from medstation.notes.spans import SpanKind, TrackedText
from medstation.notes.workspace import NoteView, SessionView, load_session
from medstation.ui.errors import report_failure
from medstation.ui.notes.blind_choice import NotesCandidateHooks
from medstation.ui.notes.dialogs import TemplateDialog, TextDialog
from medstation.ui.notes.editor import KIND_COLOURS, KIND_LABELS, NoteEditor
from medstation.ui.notes.note_actions import NoteActions


def _button(text: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(slot)
    return b


def note_label(note: NoteInfo) -> str:
    """One line of the session's note list: which note, which template, signed or draft."""
    if note.status is NoteStatus.signed:
        when = f" {note.signed_at:%Y-%m-%d %H:%M}" if note.signed_at else ""
        return f"Note {note.id} · {note.template} · signed by {note.signed_by}{when}"
    return f"Note {note.id} · {note.template} · draft, revision {note.revision}"


class NotesTab(QWidget):
    def __init__(self, notes, runner, parent=None, *, shadow=None) -> None:
        super().__init__(parent)
        self.notes, self.runner = notes, runner
        self.candidates = NotesCandidateHooks(self, shadow)  # blind choice and shadow runs (training.shadow)
        self.actions = NoteActions(self)  # regenerate, save, autosave, risks, sign-off, export
        actor = notes.session.actor
        self.session_id: int | None = None
        self.view: SessionView | None = None
        self.note: NoteInfo | None = None
        self.note_view: NoteView | None = None
        self.client_codes: dict[int, str] = {}
        self.draft_handle = None  # the drafting job of the current view while it runs
        self._view = 0  # bumped whenever the shown session or note changes
        self._wanted_session: int | None = None

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Client / session"])
        self.tree.currentItemChanged.connect(self._on_tree_current)
        left = QVBoxLayout()
        left.addWidget(self.tree)
        row = QHBoxLayout()
        row.addWidget(_button("New client", self.new_client))
        row.addWidget(_button("New session", self.new_session))
        left.addLayout(row)
        left.addWidget(_button("Client summary…", self.show_summary))
        left.addWidget(QLabel("Notes of this session"))
        self.note_list = QListWidget()
        self.note_list.setMaximumHeight(140)
        self.note_list.setWordWrap(True)
        self.note_list.currentItemChanged.connect(self._on_note_list_current)
        left.addWidget(self.note_list)

        self.transcript = QListWidget()
        self.transcript.setWordWrap(True)
        self.transcript.itemClicked.connect(self._on_transcript_clicked)
        self.transcript_label = QLabel("Transcript")
        self.transcript_label.setWordWrap(True)
        mid = QVBoxLayout()
        mid.addWidget(self.transcript_label)
        mid.addWidget(self.transcript)
        row = QHBoxLayout()
        for text, slot in (("Import…", self.import_file), ("Paste…", self.paste), ("Edit…", self.edit_transcript),
                           ("Swap speakers", self.swap_speakers)):
            row.addWidget(_button(text, slot))
        mid.addLayout(row)

        self.template_box = QComboBox()
        self.section_box = QComboBox()
        self.editor = NoteEditor(actor.name if actor else "user")
        self.editor.setReadOnly(True)  # until a note is shown
        self.editor.sig_sentence_selected.connect(self._on_sentence_selected)
        self.editor.sig_edited.connect(self.actions.on_edited)
        self.risks = QListWidget()
        self.risks.setMaximumHeight(90)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.share = QLabel("")
        legend = QLabel("  ".join(f"<span style='background:{KIND_COLOURS[k]}'>&nbsp;{KIND_LABELS[k]}&nbsp;</span>"
                                  for k in (SpanKind.ai, SpanKind.ai_edited, SpanKind.human)))
        a = self.actions
        self.buttons = {name: _button(text, slot) for name, text, slot in (
            ("draft", "Draft note", self.draft), ("templates", "Templates…", self.edit_template),
            ("regenerate", "Regenerate section", a.regenerate), ("undo_regenerate", "Undo regenerate", a.undo_regenerate),
            ("acknowledge", "Acknowledge risk", a.acknowledge), ("save", "Save", a.save), ("diff", "Diff…", a.show_diff),
            ("sign", "Sign…", a.sign), ("addendum", "Addendum…", a.addendum), ("export_text", "Export text", a.export_text),
            ("export_pdf", "Export PDF", a.export_pdf))}
        self.draft_button = self.buttons["draft"]
        right = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Template"))
        row.addWidget(self.template_box, 1)
        row.addWidget(self.buttons["templates"])
        row.addWidget(self.buttons["draft"])
        right.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.section_box, 1)
        row.addWidget(self.buttons["regenerate"])
        row.addWidget(self.buttons["undo_regenerate"])
        right.addLayout(row)
        right.addWidget(legend)
        right.addWidget(self.editor, 1)
        right.addWidget(QLabel("Risk flags (choose one and acknowledge it before signing)"))
        right.addWidget(self.risks)
        row = QHBoxLayout()
        for name in ("acknowledge", "save", "diff", "sign", "addendum", "export_text", "export_pdf"):
            row.addWidget(self.buttons[name])
        right.addLayout(row)
        right.addWidget(self.share)
        right.addWidget(self.status)

        split = QSplitter()
        for layout, stretch in ((left, 1), (mid, 2), (right, 3)):
            w = QWidget()
            w.setLayout(layout)
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([300, 450, 850])  # the note list names signer and date: give it room
        outer = QVBoxLayout(self)
        outer.addWidget(split)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(1000)  # at most one second of keystrokes is ever at risk
        self.autosave_timer.timeout.connect(self._autosave)
        self.autosave_timer.start()
        self.update_buttons()
        self.refresh()

    # --- io lane -----------------------------------------------------------------------------------

    def run_io(self, fn, *args, then=None, title: str = "", bound: bool = True):
        """Run ``fn(ctx, *args)`` in the ``io`` lane, queued behind the tab's earlier io jobs (so writes keep
        their order). ``then(result)`` runs on the GUI thread; with ``bound`` only while the view that asked
        is still the one shown. Failures reach the status line (expected) or a dialog (bugs)."""
        view = self._view
        handle = self.runner.submit("io", fn, *args, name=title or "notes", queue=True)
        if then is not None:
            handle.sig_done.connect(lambda result: then(result) if not bound or view == self._view else None)
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(self, title, m, tb, exc, self.status))
        return handle

    def _autosave(self) -> None:
        self.actions.autosave()

    # The note actions, by the names the buttons and scripts use (NoteActions does the work).
    def save(self) -> None:
        self.actions.save()

    def sign(self) -> None:
        self.actions.sign()

    def regenerate(self) -> None:
        self.actions.regenerate()

    def acknowledge(self) -> None:
        self.actions.acknowledge()

    def show_diff(self) -> None:
        self.actions.show_diff()

    def export_text(self) -> None:
        self.actions.export_text()

    def export_pdf(self) -> None:
        self.actions.export_pdf()

    @property
    def drafting(self) -> bool:
        return self.draft_handle is not None

    def update_buttons(self) -> None:
        busy, note = self.drafting, self.note
        editable = note is not None and note.status is NoteStatus.draft and not busy
        rules = {"draft": self.session_id is not None and not busy, "templates": True,
                 "regenerate": editable, "undo_regenerate": editable, "acknowledge": editable, "save": editable,
                 "sign": editable, "diff": note is not None and not busy,
                 "addendum": note is not None and note.status is NoteStatus.signed and not busy,
                 "export_text": note is not None and not busy, "export_pdf": note is not None and not busy}
        for name, button in self.buttons.items():
            button.setEnabled(rules[name])

    # --- clients and sessions ---------------------------------------------------------------------

    def refresh(self) -> None:
        notes = self.notes

        def tree(ctx):
            return [(c, notes.sessions(c.id)) for c in notes.clients()], notes.templates.names()

        self.run_io(tree, then=self._show_tree, title="Loading clients", bound=False)

    def _show_tree(self, result) -> None:
        clients, templates = result
        self.tree.blockSignals(True)
        self.tree.clear()
        for client, sessions in clients:
            self.client_codes[client.id] = client.code
            item = QTreeWidgetItem([client.code])
            item.setData(0, Qt.ItemDataRole.UserRole, ("client", client.id))
            for s in sessions:
                child = QTreeWidgetItem([f"{s.session_date} · {s.modality} · {s.duration_min} min"])
                child.setData(0, Qt.ItemDataRole.UserRole, ("session", s.id))
                item.addChild(child)
            self.tree.addTopLevelItem(item)
        self.tree.expandAll()
        self.tree.blockSignals(False)
        self._select_tree_item(self._wanted_session or self.session_id)
        current = self.template_box.currentText()
        self.template_box.clear()
        self.template_box.addItems(templates)
        if current in templates:
            self.template_box.setCurrentText(current)

    def _select_tree_item(self, session_id: int | None) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, Qt.ItemDataRole.UserRole) == ("session", session_id):
                    self.tree.blockSignals(True)
                    self.tree.setCurrentItem(top.child(j))
                    self.tree.blockSignals(False)

    def select_session(self, session_id: int) -> None:
        self._wanted_session = session_id
        self._select_tree_item(session_id)
        self.open_session(session_id)

    def _current_client(self) -> int | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        kind, ident = item.data(0, Qt.ItemDataRole.UserRole)
        return ident if kind == "client" else item.parent().data(0, Qt.ItemDataRole.UserRole)[1]

    def _on_tree_current(self, item, _previous) -> None:
        if item is None:
            return
        kind, ident = item.data(0, Qt.ItemDataRole.UserRole)
        if kind == "session" and ident != self.session_id:
            self.open_session(ident)

    def _on_note_list_current(self, item, _previous) -> None:
        note_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if note_id is not None and (self.note is None or note_id != self.note.id) and not self.drafting:
            self.open_session(self.session_id, note_id)

    def open_session(self, session_id: int, note_id: int | None = None, *, message: str = "") -> None:
        """Show ``session_id`` and its note ``note_id`` (default the newest); ``message`` for the status line."""
        self.actions.leave_view()
        self.draft_handle = None
        self._view += 1
        self.session_id, self.note, self.note_view = session_id, None, None
        self.editor.set_tracked(TrackedText())
        self.editor.setReadOnly(True)
        self.update_buttons()
        self.run_io(load_session, self.notes, session_id, note_id, title="Opening the session",
                    then=lambda view: self._show_session(view, message))

    def load_note(self, note_id: int) -> None:
        self.open_session(self.session_id, note_id)

    def _show_session(self, view: SessionView, message: str = "") -> None:
        self.view = view
        self.client_codes[view.client.id] = view.client.code
        self.note_list.blockSignals(True)
        self.note_list.clear()
        for note in view.notes:
            item = QListWidgetItem(note_label(note))
            item.setData(Qt.ItemDataRole.UserRole, note.id)
            if note.status is NoteStatus.signed:
                item.setBackground(QColor("#dcfce7"))
            self.note_list.addItem(item)
            if view.note is not None and note.id == view.note.note.id:
                self.note_list.setCurrentItem(item)
        self.note_list.blockSignals(False)
        nv = view.note
        self._show_transcript(nv.lines if nv and nv.transcript else view.lines, nv, view)
        if nv is None:
            self.note, self.note_view = None, None
            self.editor.set_tracked(TrackedText(), {}, {})
            self.editor.setReadOnly(True)
            self.risks.clear()
            self.section_box.clear()
            self.share.setText("")
            self.status.setText(message or view.message or "No note for this session yet: choose a template and "
                                "draft one.")
        else:
            self._show_note(nv, message)
        self.update_buttons()

    def _show_note(self, nv: NoteView, message: str = "") -> None:
        self.note, self.note_view = nv.note, nv
        self.editor.set_tracked(nv.doc, nv.evidence, nv.fact_flags)
        self.editor.setReadOnly(nv.note.status is NoteStatus.signed)
        self.section_box.clear()
        for section in nv.note.draft.get("sections", []):
            self.section_box.addItem(section["title"], section["key"])
        self.actions.show_risks()
        self.actions.show_share()
        recovered = "Recovered unsaved edits from the last autosave." if nv.recovered else ""
        n = nv.note
        signed = (f"Signed by {n.signed_by}{f' on {n.signed_at:%Y-%m-%d %H:%M} UTC' if n.signed_at else ''}; AI share "
                  f"stored: {100 * (n.ai_share_at_signing or 0):.1f}%. Changes go into addenda."
                  if n.status is NoteStatus.signed else "")
        self.status.setText(message or recovered or signed or n.draft.get("label", ""))

    def _show_transcript(self, lines, nv: NoteView | None, view: SessionView) -> None:
        self.transcript.clear()
        for line in lines:
            item = QListWidgetItem(f"{line.number:>3}  [{line.speaker} · {line.role.value}]  {line.text}")
            item.setData(Qt.ItemDataRole.UserRole, line.number)
            self.transcript.addItem(item)
        info = nv.transcript if nv is not None and nv.transcript is not None else view.transcript
        if info is None:
            self.transcript_label.setText("Transcript: none yet")
            return
        text = (f"Transcript version {info.version} ({info.source_format}, {len(lines)} lines"
                f"{', speakers swapped' if info.roles_swapped else ''})")
        if nv is not None and nv.transcript_changed:
            text += (f" — the version this note was drafted from; its evidence links point here. The transcript "
                     f"has changed since (now version {nv.latest_version}).")
        self.transcript_label.setText(text)

    def new_client(self) -> None:
        code, ok = QInputDialog.getText(self, "New client", "Client code:")
        if ok:
            self.run_io(lambda ctx: self.notes.create_client(code), then=lambda _c: self.refresh(),
                        title="New client", bound=False)

    def new_session(self) -> None:
        client = self._current_client()
        if client is None:
            self.status.setText("Choose a client first.")
            return
        date, ok = QInputDialog.getText(self, "New session", "Session date (YYYY-MM-DD):")
        if ok:
            self.run_io(lambda ctx: self.notes.create_session(client, date.strip()), title="New session",
                        then=lambda s: (self.refresh(), self.select_session(s.id)), bound=False)

    # --- transcripts ------------------------------------------------------------------------------

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import transcript", "",
                                              "Transcripts (*.txt *.vtt *.srt *.csv *.json);;All files (*)")
        if path:
            self.import_transcript(Path(path).read_bytes(), Path(path).name)

    def _reopen(self, message: str = "") -> None:
        self.open_session(self.session_id, self.note.id if self.note else None, message=message)

    def import_transcript(self, data: bytes | str, name: str) -> None:
        if self.session_id is None:
            self.status.setText("Choose a session first.")
            return
        self.actions.flush()
        sid = self.session_id
        self.run_io(lambda ctx: self.notes.import_transcript(sid, data, name), title="Import transcript",
                    then=lambda info: self._reopen(f"Stored transcript version {info.version}."))

    def paste(self) -> None:
        dialog = TextDialog("Paste transcript", "One turn per line, e.g. 'Therapist: …' / 'Client: …'.", parent=self)
        if dialog.exec():
            self.import_transcript(dialog.text(), "pasted.txt")

    def edit_transcript(self) -> None:
        info = self.view.transcript if self.view is not None else None
        if info is None:
            return
        dialog = TextDialog("Edit transcript", "Saving records a new transcript version.", info.text, self)
        if dialog.exec() and dialog.text() != info.text:
            self.import_transcript(dialog.text(), info.source_name)

    def swap_speakers(self) -> None:
        if self.session_id is not None:
            sid = self.session_id
            self.actions.flush()
            self.run_io(lambda ctx: self.notes.swap_speakers(sid), title="Swap speakers",
                        then=lambda info: self._reopen(f"Speakers swapped: transcript version {info.version}."))

    # --- drafting ---------------------------------------------------------------------------------

    def draft(self) -> None:
        if self.session_id is None:
            self.status.setText("Choose a session with a transcript first.")
            return
        if self.drafting:
            return
        existing = self.view.notes if self.view is not None and self.view.session.id == self.session_id else ()
        if existing:
            signed = sum(1 for n in existing if n.status is NoteStatus.signed)
            answer = QMessageBox.question(
                self, "Draft another note",
                f"This session already has {len(existing)} note(s), {signed} of them signed. Draft a new note "
                "anyway? The existing notes stay listed and unchanged.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        template = self.template_box.currentText() or "soap"
        self.actions.leave_view()
        self._view += 1
        self.note, self.note_view = None, None
        self.editor.set_tracked(TrackedText(), {}, {})
        self.editor.setReadOnly(True)  # a preview, not a document: nothing typed here could be kept
        self.risks.clear()
        handle = self.candidates.draft(template)
        if handle is None:
            handle = self.runner.submit("llm", self.notes.draft, self.session_id, template, name="draft note")
            handle.sig_partial.connect(lambda event, h=handle: self._on_draft_partial(h, event))
            handle.sig_progress.connect(lambda _f, m: self.status.setText(m))
            handle.sig_done.connect(lambda note, h=handle: self.drafted(h, note))
            handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(self, "Drafting failed", m, tb, exc,
                                                                             self.status))
        handle.sig_failed.connect(lambda *_a, h=handle: self.draft_ended(h, "Drafting failed; nothing of it was "
                                                                            "kept."))
        handle.sig_cancelled.connect(lambda h=handle: self.draft_ended(h, "Drafting cancelled; nothing was kept."))
        self.draft_handle = handle
        self.update_buttons()

    def _on_draft_partial(self, handle, event) -> None:
        if handle is not self.draft_handle:
            return
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor._applying = True  # streamed preview: replaced by the stored note (or the old one) at the end
        try:
            if event.kind == "section":
                cursor.insertText(("\n" if self.editor.toPlainText() else "") + event.text.upper() + "\n")
            elif event.kind == "sentence":
                cursor.insertText(event.text + "\n")
        finally:
            self.editor._applying = False

    def drafted(self, handle, note: NoteInfo, message: str = "") -> None:
        """A draft was stored: show it if it is this view's draft (else it stays with its own session)."""
        if handle is not self.draft_handle:
            return
        self.draft_handle = None
        self.open_session(note.session_id, note.id, message=message)
        self.candidates.after_draft(note)

    def draft_ended(self, handle, message: str) -> None:
        """A draft failed or was cancelled: put back what the session had (the preview goes)."""
        if handle is not self.draft_handle:
            return
        self.draft_handle = None
        text = self.status.text()
        self.open_session(self.session_id, message=f"{message} {text}".strip())

    # --- evidence both ways ---------------------------------------------------------------------

    def _on_sentence_selected(self, chunk: str, lines: list) -> None:
        for i in range(self.transcript.count()):
            item = self.transcript.item(i)
            item.setBackground(QColor("#fde047") if item.data(Qt.ItemDataRole.UserRole) in lines else QColor("white"))
        if lines and 0 < lines[0] <= self.transcript.count():
            self.transcript.scrollToItem(self.transcript.item(lines[0] - 1))

    def _on_transcript_clicked(self, item) -> None:
        line = item.data(Qt.ItemDataRole.UserRole)
        chunks = {c for c, lines in self.editor.evidence.items() if line in lines}
        self.editor.highlight_chunks(chunks)
        self.status.setText(f"Line {line} is used by {len(chunks)} sentence(s) of the note.")

    # --- summary and templates --------------------------------------------------------------------

    def show_summary(self) -> None:
        """Course of treatment across the client's sessions, each statement linked to its session."""
        from medstation.notes.summary import client_summary, summary_text

        client = self._current_client()
        if client is None:
            self.status.setText("Choose a client first.")
            return

        def shown(statements) -> None:
            dialog = TextDialog("Client summary", "Each statement is a line of the note of the session named "
                                "after it.", summary_text(statements) if statements else "No notes yet.", self)
            dialog.edit.setReadOnly(True)
            dialog.open()

        self.run_io(lambda ctx: client_summary(self.notes, client), then=shown, title="Client summary", bound=False)

    def edit_template(self) -> None:
        dialog = TemplateDialog(parent=self)
        if dialog.exec() and dialog.spec is not None:
            actor = self.notes.session.actor
            spec, author = dialog.spec, actor.name if actor else ""
            self.run_io(lambda ctx: self.notes.templates.save(spec, author=author), then=lambda _t: self.refresh(),
                        title="Save template", bound=False)
