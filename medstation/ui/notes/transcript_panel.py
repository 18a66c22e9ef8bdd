"""The Notes tab's transcript list: its lines and label, and the evidence links in both directions.

Functions of the tab (``tab.transcript``: the line list; ``tab.editor``: the tracked note editor), kept
apart from the tab's session and note flow: drawing a transcript version and linking its lines to the
note's sentences is one job, opening sessions and notes another.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidgetItem

from medstation.notes.workspace import NoteView, SessionView

LINKED = QColor("#fde047")


def show_transcript(tab, lines, nv: NoteView | None, view: SessionView) -> None:
    """Fill the line list with ``lines`` and say which version they are (the note's, or the latest)."""
    tab.transcript.clear()
    for line in lines:
        item = QListWidgetItem(f"{line.number:>3}  [{line.speaker} · {line.role.value}]  {line.text}")
        item.setData(Qt.ItemDataRole.UserRole, line.number)
        tab.transcript.addItem(item)
    info = nv.transcript if nv is not None and nv.transcript is not None else view.transcript
    tab.shown_transcript_id = info.id if info is not None else None  # what a double-clicked line plays
    if info is None:
        tab.transcript_label.setText("Transcript: none yet")
        return
    text = (f"Transcript version {info.version} ({info.source_format}, {len(lines)} lines"
            f"{', speakers swapped' if info.roles_swapped else ''})")
    if nv is not None and nv.transcript_changed:
        text += (f" — the version this note was drafted from; its evidence links point here. The transcript "
                 f"has changed since (now version {nv.latest_version}).")
    tab.transcript_label.setText(text)


def highlight_lines(tab, lines: list) -> None:
    """A sentence of the note was selected: mark the transcript lines it rests on (1-based) and show the first."""
    for i in range(tab.transcript.count()):
        item = tab.transcript.item(i)
        item.setBackground(LINKED if item.data(Qt.ItemDataRole.UserRole) in lines else QColor("white"))
    if lines and 0 < lines[0] <= tab.transcript.count():
        tab.transcript.scrollToItem(tab.transcript.item(lines[0] - 1))


def highlight_sentences(tab, item) -> None:
    """A transcript line was clicked: mark the note's sentences that rest on it."""
    line = item.data(Qt.ItemDataRole.UserRole)
    chunks = {c for c, lines in tab.editor.evidence.items() if line in lines}
    tab.editor.highlight_chunks(chunks)
    tab.status.setText(f"Line {line} is used by {len(chunks)} sentence(s) of the note.")
