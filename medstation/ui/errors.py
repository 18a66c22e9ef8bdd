"""The one way errors reach the user: a plain message, details on demand, logged."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """Tell the user what went wrong in one sentence; the traceback goes to details and the log."""
    log.error("%s: %s\n%s", title, message, details)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()  # non-blocking: never a nested event loop in tests or jobs' callbacks
