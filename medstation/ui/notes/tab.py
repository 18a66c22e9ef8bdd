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
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSplitter, QTreeWidget,
                               QVBoxLayout, QWidget)

from medstation.access.roles import Permission
from medstation.notes.records import NoteInfo, NoteStatus
from medstation.notes.spans import SpanKind, TrackedText
from medstation.notes.workspace import NoteView, SessionView, load_session
from medstation.ui.errors import report_failure
from medstation.ui.notes.blind_choice import NotesCandidateHooks
from medstation.ui.notes.editor import KIND_COLOURS, KIND_LABELS, NoteEditor
from medstation.ui.notes.draft_flow import DraftFlow
from medstation.ui.notes.note_actions import NoteActions
from medstation.ui.notes.session_actions import SessionActions
from medstation.ui.notes import client_tree, transcript_panel
from medstation.ui.notes.controls import button as _button
from medstation.ui.notes.controls import button_grid as _button_grid
from medstation.ui.notes.controls import note_label


class NotesTab(QWidget):
    def __init__(self, notes, runner, parent=None, *, shadow=None) -> None:
        super().__init__(parent)
        self.notes, self.runner = notes, runner
        self.candidates = NotesCandidateHooks(self, shadow)  # blind choice and shadow runs (training.shadow)
        self.actions = NoteActions(self)  # regenerate, save, autosave, risks, sign-off, export
        self.session_actions = sa = SessionActions(self)  # clients, sessions, transcripts, templates
        self.draft_flow = DraftFlow(self)  # "Draft note": the question, the preview, where the result goes
        self.session_id: int | None = None
        self.view: SessionView | None = None
        self.note: NoteInfo | None = None
        self.note_view: NoteView | None = None
        self.client_codes: dict[int, str] = {}
        self.draft_handle = None  # the drafting job of the current view while it runs
        self._view = 0  # bumped whenever the shown session or note changes
        self._wanted_session: int | None = None
        self.shown_transcript_id: int | None = None  # the transcript version whose lines are listed

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Client / session"])
        self.tree.currentItemChanged.connect(self._on_tree_current)
        left = QVBoxLayout()
        left.addWidget(self.tree)
        # Controls that change stored work: enabled only for a role that may edit notes (see update_buttons).
        self.edit_controls = {name: _button(text, slot) for name, text, slot in (
            ("new_client", "New client", sa.new_client), ("new_session", "New session", sa.new_session),
            ("import", "Import…", sa.import_file), ("paste", "Paste…", sa.paste),
            ("edit_transcript", "Edit…", sa.edit_transcript), ("swap", "Swap speakers", sa.swap_speakers),
            ("recording", "Recording…", self.import_recording))}
        row = QHBoxLayout()
        row.addWidget(self.edit_controls["new_client"])
        row.addWidget(self.edit_controls["new_session"])
        left.addLayout(row)
        left.addWidget(_button("Client summary…", sa.show_summary))
        left.addWidget(QLabel("Notes of this session"))
        self.note_list = QListWidget()
        self.note_list.setMaximumHeight(140)
        self.note_list.setWordWrap(True)
        self.note_list.currentItemChanged.connect(self._on_note_list_current)
        left.addWidget(self.note_list)

        self.transcript = QListWidget()
        self.transcript.setWordWrap(True)
        self.transcript.itemClicked.connect(self._on_transcript_clicked)
        self.transcript.itemDoubleClicked.connect(self.play_recording_line)
        self.transcript_label = QLabel("Transcript")
        self.transcript_label.setWordWrap(True)
        mid = QVBoxLayout()
        mid.addWidget(self.transcript_label)
        mid.addWidget(self.transcript)
        mid.addLayout(_button_grid([self.edit_controls[name] for name in
                                    ("import", "paste", "edit_transcript", "swap", "recording")], 3))

        self.template_box = QComboBox()
        self.section_box = QComboBox()
        self.editor = NoteEditor(self._author_name)  # asked at each edit: "Switch user…" keeps this editor
        self.editor.setReadOnly(True)  # until a note is shown
        self.editor.sig_sentence_selected.connect(self._on_sentence_selected)
        self.editor.sig_edited.connect(self.actions.on_edited)
        self.risks = QListWidget()
        self.risks.setMaximumHeight(130)
        self.risks.setWordWrap(True)  # a flag quotes its line and says why: long text wraps, never scrolls sideways
        self.risks.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.share = QLabel("")
        legend = QLabel("  ".join(f"<span style='background:{KIND_COLOURS[k]}'>&nbsp;{KIND_LABELS[k]}&nbsp;</span>"
                                  for k in (SpanKind.ai, SpanKind.ai_edited, SpanKind.human)))
        a = self.actions
        self.buttons = {name: _button(text, slot) for name, text, slot in (
            ("draft", "Draft note", self.draft), ("templates", "Templates…", sa.edit_template),
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
        note_actions = ("acknowledge", "save", "diff", "sign", "addendum", "export_text", "export_pdf")
        right.addLayout(_button_grid([self.buttons[name] for name in note_actions], 4))
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
        self._actor = notes.session.actor  # whose permissions the controls show (re-read each tick: actor_changed)
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
        if self.notes.session.actor != self._actor:  # "Switch user…" signs another person in under this tab
            self.actor_changed()
        self.actions.autosave()

    def _author_name(self) -> str:
        actor = self.notes.session.actor
        return actor.name if actor else "user"

    def may(self, permission: Permission) -> bool:
        """Whether the person signed in now may ``permission`` (the service checks again; this shapes the controls)."""
        actor = self.notes.session.actor
        return actor is not None and actor.can(permission)

    def actor_changed(self) -> None:
        """Someone else signed in: the note's editability and the controls follow their role."""
        self._actor = self.notes.session.actor
        self._set_editor_read_only()
        self.update_buttons()

    def _set_editor_read_only(self) -> None:
        note = self.note
        self.editor.setReadOnly(note is None or note.status is NoteStatus.signed or self.drafting
                                or not self.may(Permission.edit_notes))

    def flush(self) -> None:
        """Queue the unsaved keystrokes now (the window closes, the user signs out or looks at another tab)."""
        self.actions.flush()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt naming): another tab is shown, or the window hides
        self.flush()
        super().hideEvent(event)

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

    def import_transcript(self, data: bytes | str | Path, name: str) -> None:
        self.session_actions.import_transcript(data, name)

    def import_recording(self) -> None:
        from medstation.ui.notes.audio_panel import open_recording_dialog  # QtMultimedia-free, but heavy

        open_recording_dialog(self)

    def play_recording_line(self, item) -> None:
        from medstation.ui.notes.audio_panel import play_transcript_line

        play_transcript_line(self, item)

    def export_text(self) -> None:
        self.actions.export_text()

    def export_pdf(self) -> None:
        self.actions.export_pdf()

    @property
    def drafting(self) -> bool:
        return self.draft_handle is not None

    def update_buttons(self) -> None:
        busy, note = self.drafting, self.note
        edit, sign = self.may(Permission.edit_notes), self.may(Permission.sign_notes)
        editable = note is not None and note.status is NoteStatus.draft and not busy and edit
        rules = {"draft": self.session_id is not None and not busy and edit, "templates": edit,
                 "regenerate": editable, "undo_regenerate": editable, "acknowledge": editable, "save": editable,
                 "sign": editable and sign, "diff": note is not None and not busy,
                 "addendum": note is not None and note.status is NoteStatus.signed and not busy and sign,
                 "export_text": note is not None and not busy and sign,
                 "export_pdf": note is not None and not busy and sign}
        for name, button in self.buttons.items():
            button.setEnabled(rules[name])
        for name, button in self.edit_controls.items():
            button.setEnabled(edit and (self.session_id is not None or name in ("new_client", "new_session")))

    # --- clients and sessions ---------------------------------------------------------------------

    def refresh(self) -> None:
        notes = self.notes

        def tree(ctx):
            return [(c, notes.sessions(c.id)) for c in notes.clients()], notes.templates.names()

        self.run_io(tree, then=self._show_tree, title="Loading clients", bound=False)

    def _show_tree(self, result) -> None:
        clients, templates = result
        self.client_codes.update(client_tree.fill(self.tree, clients))
        self._select_tree_item(self._wanted_session or self.session_id)
        current = self.template_box.currentText()
        self.template_box.clear()
        self.template_box.addItems(templates)
        if current in templates:
            self.template_box.setCurrentText(current)

    def _select_tree_item(self, session_id: int | None) -> None:
        client_tree.select_session(self.tree, session_id)

    def select_session(self, session_id: int) -> None:
        self._wanted_session = session_id
        self._select_tree_item(session_id)
        self.open_session(session_id)

    def _current_client(self) -> int | None:
        return client_tree.current_client(self.tree)

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
        self._wanted_session = session_id  # the tree keeps this session selected when it is rebuilt
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
        self._set_editor_read_only()
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
        transcript_panel.show_transcript(self, lines, nv, view)

    # --- drafting (DraftFlow does the work) --------------------------------------------------------

    def draft(self) -> None:
        self.draft_flow.draft()

    def drafted(self, handle, note: NoteInfo, message: str = "") -> None:
        self.draft_flow.drafted(handle, note, message)

    def draft_ended(self, handle, message: str) -> None:
        self.draft_flow.draft_ended(handle, message)

    # --- evidence both ways ---------------------------------------------------------------------

    def _on_sentence_selected(self, chunk: str, lines: list) -> None:
        transcript_panel.highlight_lines(self, lines)

    def _on_transcript_clicked(self, item) -> None:
        transcript_panel.highlight_sentences(self, item)
