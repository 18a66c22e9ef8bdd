"""Modal message boxes never block a test run.

A static ``QMessageBox.question``/``warning``/... opens a nested event loop that
waits for a person; under pytest (offscreen) nobody answers and the run hangs,
for example when qtbot closes a main window that still holds drafts at teardown.
The fixture answers every question "Yes" (so teardown closes windows) and
records each box; a test that cares about a question patches it itself.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def non_blocking_message_boxes(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def make(kind, answer):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, f"{title}: {text}"))
            return answer

        return box

    monkeypatch.setattr(QMessageBox, "question", make("question", QMessageBox.StandardButton.Yes))
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, make(kind, QMessageBox.StandardButton.Ok))
    return shown
