"""Notes tab: clients → sessions, the transcript, the tracked note editor, risk flags and sign-off.

The widget gathers input and shows results; every decision (what is stored,
what may be signed, which text is AI) is made by
:class:`~medstation.notes.service.NotesService`. Drafting runs in the ``llm``
lane and streams sections and sentences into the editor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QSplitter, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from medstation.errors import UserFacingError
from medstation.notes.export import export_pdf, note_plain_text
from medstation.notes.records import NoteInfo, NoteStatus
from medstation.notes.spans import SpanKind, TrackedText
from medstation.ui.errors import show_error
from medstation.ui.notes.blind_choice import NotesCandidateHooks
from medstation.ui.notes.dialogs import DiffDialog, TemplateDialog, TextDialog
from medstation.ui.notes.editor import KIND_COLOURS, KIND_LABELS, NoteEditor


def _button(text: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(slot)
    return b


class NotesTab(QWidget):
    def __init__(self, notes, runner, parent=None, *, shadow=None) -> None:
        super().__init__(parent)
        self.notes, self.runner = notes, runner
        self.candidates = NotesCandidateHooks(self, shadow)  # blind choice and shadow runs (training.shadow)
        actor = notes.session.actor
        self.session_id: int | None = None
        self.note: NoteInfo | None = None
        self.client_codes: dict[int, str] = {}
        self._dirty = False
        self._undo: TrackedText | None = None

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

        self.transcript = QListWidget()
        self.transcript.setWordWrap(True)
        self.transcript.itemClicked.connect(self._on_transcript_clicked)
        self.transcript.itemDoubleClicked.connect(self.play_recording_line)
        mid = QVBoxLayout()
        mid.addWidget(QLabel("Transcript"))
        mid.addWidget(self.transcript)
        row = QHBoxLayout()
        for text, slot in (("Import…", self.import_file), ("Paste…", self.paste), ("Edit…", self.edit_transcript),
                           ("Swap speakers", self.swap_speakers), ("Recording…", self.import_recording)):
            row.addWidget(_button(text, slot))
        mid.addLayout(row)

        self.template_box = QComboBox()
        self.section_box = QComboBox()
        self.editor = NoteEditor(actor.name if actor else "user")
        self.editor.sig_sentence_selected.connect(self._on_sentence_selected)
        self.editor.sig_edited.connect(self._on_edited)
        self.risks = QListWidget()
        self.risks.setMaximumHeight(90)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.share = QLabel("")
        legend = QLabel("  ".join(f"<span style='background:{KIND_COLOURS[k]}'>&nbsp;{KIND_LABELS[k]}&nbsp;</span>"
                                  for k in (SpanKind.ai, SpanKind.ai_edited, SpanKind.human)))
        right = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Template"))
        row.addWidget(self.template_box, 1)
        row.addWidget(_button("Templates…", self.edit_template))
        self.draft_button = _button("Draft note", self.draft)
        row.addWidget(self.draft_button)
        right.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.section_box, 1)
        row.addWidget(_button("Regenerate section", self.regenerate))
        row.addWidget(_button("Undo regenerate", self.undo_regenerate))
        right.addLayout(row)
        right.addWidget(legend)
        right.addWidget(self.editor, 1)
        right.addWidget(QLabel("Risk flags (acknowledge before signing)"))
        right.addWidget(self.risks)
        row = QHBoxLayout()
        for text, slot in (("Acknowledge risk", self.acknowledge), ("Save", self.save), ("Diff…", self.show_diff),
                           ("Sign…", self.sign), ("Addendum…", self.addendum), ("Export text", self.export_text),
                           ("Export PDF", self.export_pdf)):
            row.addWidget(_button(text, slot))
        right.addLayout(row)
        right.addWidget(self.share)
        right.addWidget(self.status)

        split = QSplitter()
        for layout, stretch in ((left, 1), (mid, 2), (right, 3)):
            w = QWidget()
            w.setLayout(layout)
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        outer = QVBoxLayout(self)
        outer.addWidget(split)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(1000)  # at most one second of keystrokes is ever at risk
        self.autosave_timer.timeout.connect(self._autosave)
        self.autosave_timer.start()
        self.refresh()

    # --- helpers ---------------------------------------------------------------------------------

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return None

    def refresh(self) -> None:
        clients = self._guard(self.notes.clients) or []
        self.tree.clear()
        for client in clients:
            self.client_codes[client.id] = client.code
            item = QTreeWidgetItem([client.code])
            item.setData(0, Qt.ItemDataRole.UserRole, ("client", client.id))
            for s in self.notes.sessions(client.id):
                child = QTreeWidgetItem([f"{s.session_date} · {s.modality} · {s.duration_min} min"])
                child.setData(0, Qt.ItemDataRole.UserRole, ("session", s.id))
                item.addChild(child)
            self.tree.addTopLevelItem(item)
        self.tree.expandAll()
        self.template_box.clear()
        self.template_box.addItems(self.notes.templates.names())

    def select_session(self, session_id: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, Qt.ItemDataRole.UserRole) == ("session", session_id):
                    self.tree.setCurrentItem(top.child(j))

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
        if kind == "session":
            self.open_session(ident)

    def open_session(self, session_id: int) -> None:
        self.session_id = session_id
        self._show_transcript()
        notes = self.notes.notes_for_session(session_id)
        if notes:
            self.load_note(notes[-1])
        else:
            self.note = None
            self.editor.set_tracked(TrackedText())
            self.risks.clear()

    def _show_transcript(self) -> None:
        self.transcript.clear()
        try:
            info, transcript = self.notes.latest_transcript(self.session_id)
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return
        for line in transcript.lines:
            item = QListWidgetItem(f"{line.number:>3}  [{line.speaker} · {line.role.value}]  {line.text}")
            item.setData(Qt.ItemDataRole.UserRole, line.number)
            self.transcript.addItem(item)
        self.status.setText(f"Transcript version {info.version} ({info.source_format}, {len(transcript.lines)} lines"
                            f"{', speakers swapped' if info.roles_swapped else ''}).")

    # --- clients, sessions, transcripts ----------------------------------------------------------

    def new_client(self) -> None:
        code, ok = QInputDialog.getText(self, "New client", "Client code:")
        if ok and self._guard(self.notes.create_client, code):
            self.refresh()

    def new_session(self) -> None:
        client = self._current_client()
        if client is None:
            self.status.setText("Choose a client first.")
            return
        date, ok = QInputDialog.getText(self, "New session", "Session date (YYYY-MM-DD):")
        if ok:
            s = self._guard(self.notes.create_session, client, date.strip())
            self.refresh()
            if s:
                self.select_session(s.id)

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import transcript", "",
                                              "Transcripts (*.txt *.vtt *.srt *.csv *.json);;All files (*)")
        if path:
            self.import_transcript(Path(path).read_bytes(), Path(path).name)

    def import_recording(self) -> None:
        from medstation.ui.notes.audio_panel import open_recording_dialog

        open_recording_dialog(self)

    def play_recording_line(self, item) -> None:
        from medstation.ui.notes.audio_panel import play_transcript_line

        play_transcript_line(self, item)

    def import_transcript(self, data: bytes | str, name: str) -> None:
        if self.session_id is None:
            self.status.setText("Choose a session first.")
            return
        if self._guard(self.notes.import_transcript, self.session_id, data, name):
            self._show_transcript()

    def paste(self) -> None:
        dialog = TextDialog("Paste transcript", "One turn per line, e.g. 'Therapist: …' / 'Client: …'.", parent=self)
        if dialog.exec():
            self.import_transcript(dialog.text(), "pasted.txt")

    def edit_transcript(self) -> None:
        if self.session_id is None:
            return
        info = self._guard(lambda: self.notes.latest_transcript(self.session_id)[0])
        if info is None:
            return
        dialog = TextDialog("Edit transcript", "Saving records a new transcript version.", info.text, self)
        if dialog.exec() and dialog.text() != info.text:
            self.import_transcript(dialog.text(), info.source_name)

    def swap_speakers(self) -> None:
        if self.session_id is not None and self._guard(self.notes.swap_speakers, self.session_id):
            self._show_transcript()

    # --- drafting --------------------------------------------------------------------------------

    def draft(self) -> None:
        if self.session_id is None:
            self.status.setText("Choose a session with a transcript first.")
            return
        self.editor.setReadOnly(True)
        self.editor.set_tracked(TrackedText())
        self.draft_button.setEnabled(False)
        if self.candidates.draft(self.template_box.currentText()):
            return
        handle = self.runner.submit("llm", self.notes.draft, self.session_id, self.template_box.currentText(),
                                    name="draft note")
        handle.sig_partial.connect(self._on_draft_partial)
        handle.sig_progress.connect(lambda _f, m: self.status.setText(m))
        handle.sig_done.connect(lambda note: self.load_note(note.id))
        handle.sig_done.connect(self.candidates.after_draft)
        handle.sig_failed.connect(lambda m, tb: show_error(self, "Drafting failed", m, tb))
        handle.sig_finished.connect(self._on_draft_finished)
        self.draft_handle = handle

    def _on_draft_partial(self, event) -> None:
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor._applying = True  # streamed preview, replaced by the stored note when the job ends
        try:
            if event.kind == "section":
                cursor.insertText(("\n" if self.editor.toPlainText() else "") + event.text.upper() + "\n")
            elif event.kind == "sentence":
                cursor.insertText(event.text + "\n")
        finally:
            self.editor._applying = False

    def _on_draft_finished(self) -> None:
        self.editor.setReadOnly(False)
        self.draft_button.setEnabled(True)

    def load_note(self, note_id: int) -> None:
        self.note = self.notes.note(note_id)
        draft = self.note.draft
        evidence = dict(draft.get("provenance", {}).get("evidence_map", {}))
        facts = {}
        for section in draft.get("sections", []):
            for i, s in enumerate(section["sentences"]):
                facts[f"{section['key']}:{i}"] = [(f["start"], f["end"]) for f in s["fact_flags"]]
        evidence.update(getattr(self, "_extra_evidence", {}))
        doc = TrackedText.from_spans(self.note.text, list(self.note.spans))
        recovered = self.notes.recover_autosave(note_id)
        if recovered is not None:
            doc = recovered
            self.status.setText("Recovered unsaved edits from the last autosave.")
        self.editor.set_tracked(doc, evidence, facts)
        self.editor.setReadOnly(self.note.status is NoteStatus.signed)
        self.section_box.clear()
        for section in draft.get("sections", []):
            self.section_box.addItem(section["title"], section["key"])
        self._show_risks()
        self._show_share()
        if recovered is None:
            self.status.setText(draft.get("label", ""))

    def _show_risks(self) -> None:
        self.risks.clear()
        for flag in self.note.risk_flags:
            acked = flag["category"] in self.note.acknowledged
            if not flag["needs_acknowledgement"]:
                text, colour = f"Documented denial: {flag['label']} (lines {flag['lines']})", "#e5e7eb"
            elif acked:
                text, colour = f"Acknowledged: {flag['label']} (lines {flag['lines']})", "#dcfce7"
            else:
                text, colour = f"⚠ {flag['label']} — {flag['status']} (lines {flag['lines']}): awaiting acknowledgement", \
                    "#fecaca"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, flag["category"])
            item.setBackground(QColor(colour))
            self.risks.addItem(item)

    def _show_share(self) -> None:
        share = float(self.editor.doc.ai_share())
        state = "signed" if self.note and self.note.status is NoteStatus.signed else "draft"
        self.share.setText(f"Note {state} · written by the AI: {100 * share:.0f}% of the text")

    def regenerate(self) -> None:
        if self.note is None:
            return
        key = self.section_box.currentData()
        answer = QMessageBox.question(self, "Regenerate section",
                                      "Replace the untouched AI text of this section? Text you wrote or edited is kept.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._undo = TrackedText.from_spans(self.editor.doc.text, self.editor.doc.span_dicts())
        self._undo.ops = list(self.editor.doc.ops)
        handle = self.runner.submit("llm", self.notes.regenerate_section, self.note.id, key, self.editor.doc,
                                    name="regenerate section")
        handle.sig_done.connect(lambda doc: (self.editor.set_tracked(doc), self._on_edited()))
        handle.sig_failed.connect(lambda m, tb: show_error(self, "Regenerating failed", m, tb))

    def undo_regenerate(self) -> None:
        if self._undo is not None:
            self.editor.set_tracked(self._undo)
            self._undo = None
            self._on_edited()

    # --- evidence both ways ----------------------------------------------------------------------

    def _on_sentence_selected(self, chunk: str, lines: list) -> None:
        for i in range(self.transcript.count()):
            item = self.transcript.item(i)
            item.setBackground(QColor("#fde047") if item.data(Qt.ItemDataRole.UserRole) in lines else QColor("white"))
        if lines:
            self.transcript.scrollToItem(self.transcript.item(lines[0] - 1))

    def _on_transcript_clicked(self, item) -> None:
        line = item.data(Qt.ItemDataRole.UserRole)
        chunks = {c for c, lines in self.editor.evidence.items() if line in lines}
        self.editor.highlight_chunks(chunks)
        self.status.setText(f"Line {line} is used by {len(chunks)} sentence(s) of the note.")

    # --- saving, risks, sign-off, export ---------------------------------------------------------

    def _on_edited(self) -> None:
        self._dirty = True
        self._show_share()

    def _autosave(self) -> None:
        if self._dirty and self.note is not None and self.note.status is NoteStatus.draft:
            self._dirty = False
            self._guard(self.notes.autosave, self.note.id, self.editor.doc, self.note.revision)

    def save(self) -> None:
        if self.note is not None and self._guard(self.notes.save_revision, self.note.id, self.editor.doc):
            self.note = self.notes.note(self.note.id)
            self.status.setText(f"Saved revision {self.note.revision}.")

    def acknowledge(self) -> None:
        item = self.risks.currentItem() or (self.risks.item(0) if self.risks.count() else None)
        if item is None or self.note is None:
            return
        self._guard(self.notes.acknowledge_risk, self.note.id, item.data(Qt.ItemDataRole.UserRole))
        self.note = self.notes.note(self.note.id)
        self._show_risks()

    def show_diff(self) -> None:
        if self.note is not None:
            DiffDialog(self.notes.revisions(self.note.id), self).open()

    def sign(self) -> None:
        if self.note is None:
            return
        self.save()
        share = 100 * float(self.editor.doc.ai_share())
        answer = QMessageBox.question(self, "Sign note", f"Sign this note as shown? {share:.0f}% of its text was "
                                      "written by the AI. A signed note is locked; later changes are addenda.")
        if answer == QMessageBox.StandardButton.Yes and self._guard(self.notes.sign, self.note.id,
                                                                    self.editor.toPlainText()) is not None:
            self.load_note(self.note.id)
            self.status.setText(f"Signed. AI share stored: {share:.0f}%.")
            self.candidates.after_sign(self.note.id)

    def addendum(self) -> None:
        if self.note is None:
            return
        dialog = TextDialog("Addendum", "A dated addition to the signed note.", parent=self)
        if dialog.exec() and self._guard(self.notes.add_addendum, self.note.id, dialog.text()) is not False:
            self.note = self.notes.note(self.note.id)

    def _export_base(self) -> tuple | None:
        if self.note is None:
            return None
        session = self.notes.session_info(self.note.session_id)
        return self.notes.note(self.note.id), session, self.client_codes.get(session.client_id, "?")

    def export_text(self) -> None:
        base = self._export_base()
        if base:
            path = Path(self.notes.settings.exports_dir) / f"note_{self.note.id}.txt"
            path.write_text(note_plain_text(*base), encoding="utf-8")
            self.status.setText(f"Exported {path}")

    def export_pdf(self) -> None:
        base = self._export_base()
        if base:
            path = export_pdf(*base, Path(self.notes.settings.exports_dir) / f"note_{self.note.id}.pdf")
            self.status.setText(f"Exported {path}")

    def show_summary(self) -> None:
        """Course of treatment across the client's sessions, each statement linked to its session."""
        from medstation.notes.summary import client_summary, summary_text

        client = self._current_client()
        if client is None:
            self.status.setText("Choose a client first.")
            return
        statements = self._guard(client_summary, self.notes, client)
        if statements is not None:
            dialog = TextDialog("Client summary", "Each statement is a line of the note of the session named "
                                "after it.", summary_text(statements) if statements else "No notes yet.", self)
            dialog.edit.setReadOnly(True)
            dialog.open()

    def edit_template(self) -> None:
        dialog = TemplateDialog(parent=self)
        if dialog.exec() and dialog.spec is not None:
            actor = self.notes.session.actor
            if self._guard(self.notes.templates.save, dialog.spec, author=actor.name if actor else "") is not None:
                self.refresh()
