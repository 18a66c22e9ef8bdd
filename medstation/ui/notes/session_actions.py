"""The Notes tab's actions on clients, sessions, transcripts and templates (the left and middle columns).

Each action gathers input on the GUI thread (dialogs) and does its database work in the ``io`` lane
(:meth:`~medstation.ui.notes.tab.NotesTab.run_io`); a stored transcript version reopens the session
view, so the transcript panel and the note's evidence links always come from the database.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog

from medstation.notes.transcript import SpeakerRole, parse_transcript, read_transcript_file
from medstation.ui.notes.dialogs import TemplateDialog, TextDialog


def stored_message(info, problem: str) -> str:
    """The status line after a transcript version was stored; ``problem``: "unlabelled" (no line names its
    speaker), "no roles" (speakers named, none as therapist or client) or ""."""
    message = f"Stored transcript version {info.version}."
    if problem == "unlabelled":
        message += (" No speaker was recognised (a line needs a label such as 'Therapist:' or 'Client:'), so the "
                    "draft cannot tell the client's words from the therapist's: use Edit… to add the labels.")
    elif problem == "no roles":
        message += (" No speaker is labelled as the therapist or the client (e.g. 'Therapist:', 'Client:'), so the "
                    "draft cannot tell the client's words from the therapist's: use Edit… to relabel them.")
    return message


class SessionActions(QObject):
    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab

    def new_client(self) -> None:
        tab = self.tab
        code, ok = QInputDialog.getText(tab, "New client", "Client code:")
        if ok:
            tab.run_io(lambda ctx: tab.notes.create_client(code), then=lambda _c: tab.refresh(),
                       title="New client", bound=False)

    def new_session(self) -> None:
        tab = self.tab
        client = tab._current_client()
        if client is None:
            tab.status.setText("Choose a client first.")
            return
        today = datetime.date.today().isoformat()  # the usual answer, and the format shown by example
        date, ok = QInputDialog.getText(tab, "New session", "Session date (YYYY-MM-DD):", text=today)
        if ok:
            tab.run_io(lambda ctx: tab.notes.create_session(client, date.strip()), title="New session",
                       then=lambda s: (tab.refresh(), tab.select_session(s.id)), bound=False)

    # --- transcripts ------------------------------------------------------------------------------

    def import_file(self) -> None:
        tab = self.tab
        path, _ = QFileDialog.getOpenFileName(tab, "Import transcript", "",
                                              "Transcripts (*.txt *.vtt *.srt *.csv *.json);;All files (*)")
        if path:  # read in the io lane, and only after its size was checked (not a video picked by mistake)
            self.import_transcript(Path(path), Path(path).name)

    def reopen(self, message: str = "") -> None:
        tab = self.tab
        tab.open_session(tab.session_id, tab.note.id if tab.note else None, message=message)

    def import_transcript(self, data: bytes | str | Path, name: str) -> None:
        """Store ``data`` (the text, its bytes, or a file to read in the io lane) as the session's next version."""
        tab = self.tab
        if tab.session_id is None:
            tab.status.setText("Choose a session first.")
            return
        tab.actions.flush()
        sid = tab.session_id

        def job(ctx):
            content = read_transcript_file(data) if isinstance(data, Path) else data
            info = tab.notes.import_transcript(sid, content, name)
            lines = parse_transcript(info.text, "stored.txt").lines
            if all(line.speaker == "unknown" for line in lines):
                return info, "unlabelled"
            return info, "no roles" if all(line.role is SpeakerRole.other for line in lines) else ""

        tab.run_io(job, title="Import transcript", then=lambda result: self.reopen(stored_message(*result)))

    def paste(self) -> None:
        tab = self.tab
        dialog = TextDialog("Paste transcript", "One turn per line, e.g. 'Therapist: …' / 'Client: …'.", parent=tab)
        if dialog.exec():
            self.import_transcript(dialog.text(), "pasted.txt")

    def edit_transcript(self) -> None:
        tab = self.tab
        info = tab.view.transcript if tab.view is not None else None
        if info is None:
            return
        dialog = TextDialog("Edit transcript", "Saving records a new transcript version.", info.text, tab)
        if dialog.exec() and dialog.text() != info.text:
            self.import_transcript(dialog.text(), info.source_name)

    def swap_speakers(self) -> None:
        tab = self.tab
        if tab.session_id is not None:
            sid = tab.session_id
            tab.actions.flush()
            tab.run_io(lambda ctx: tab.notes.swap_speakers(sid), title="Swap speakers",
                       then=lambda info: self.reopen(f"Speakers swapped: transcript version {info.version}."))

    # --- summary and templates --------------------------------------------------------------------

    def show_summary(self) -> None:
        """Course of treatment across the client's sessions, each statement linked to its session."""
        tab = self.tab
        from medstation.notes.summary import client_summary, summary_text

        client = tab._current_client()
        if client is None:
            tab.status.setText("Choose a client first.")
            return

        def shown(statements) -> None:
            dialog = TextDialog("Client summary", "Each statement is a line of the note of the session named "
                                "after it.", summary_text(statements) if statements else "No notes yet.", tab)
            dialog.edit.setReadOnly(True)
            dialog.open()

        tab.run_io(lambda ctx: client_summary(tab.notes, client), then=shown, title="Client summary", bound=False)

    def edit_template(self) -> None:
        tab = self.tab
        dialog = TemplateDialog(parent=tab)
        if dialog.exec() and dialog.spec is not None:
            actor = tab.notes.session.actor
            spec, author = dialog.spec, actor.name if actor else ""
            tab.run_io(lambda ctx: tab.notes.templates.save(spec, author=author), then=lambda _t: tab.refresh(),
                       title="Save template", bound=False)
