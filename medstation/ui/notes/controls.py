"""Small widget helpers of the Notes tab: buttons, button grids, the note list's labels."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QPushButton

from medstation.notes.records import NoteInfo, NoteStatus


def button(text: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(slot)
    return b


def button_grid(buttons: list[QPushButton], columns: int) -> QGridLayout:
    """Buttons in rows of ``columns``: one long row would ask for more width than a small screen has, and Qt
    then cuts every label ("knowledge r" for Acknowledge risk)."""
    grid = QGridLayout()
    for i, b in enumerate(buttons):
        grid.addWidget(b, i // columns, i % columns)
    return grid


def note_label(note: NoteInfo) -> str:
    """One line of the session's note list: which note, which template, signed or draft."""
    if note.status is NoteStatus.signed:
        when = f" {note.signed_at:%Y-%m-%d %H:%M}" if note.signed_at else ""
        return f"Note {note.id} · {note.template} · signed by {note.signed_by}{when}"
    return f"Note {note.id} · {note.template} · draft, revision {note.revision}"
