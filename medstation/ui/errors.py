"""The one way errors reach the user.

* An expected problem (:class:`~medstation.errors.UserFacingError`: bad input, a
  missing model, an empty knowledge base, a refused permission) is a sentence on
  the tab's status line. No dialog: the user can fix it and go on.
* Anything else is a bug: a dialog with the sentence, the traceback under
  "details", and the log.

Tabs connect job failures with :func:`failure_slot`::

    handle.sig_failed.connect(failure_slot(self, "Export", self.status_label))
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from medstation.errors import UserFacingError

log = logging.getLogger(__name__)

StatusLine = QLabel | Callable[[str], None] | None


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


def is_expected(exc: object) -> bool:
    """True for problems the user can fix (shown on the status line), False for bugs (a dialog)."""
    return isinstance(exc, UserFacingError)


def _set_status(status: StatusLine, text: str) -> bool:
    if status is None:
        return False
    if isinstance(status, QLabel):
        status.setText(text)
    else:
        status(text)
    return True


def report_failure(parent: QWidget | None, title: str, message: str, details: str = "", exc: object = None,
                   status: StatusLine = None) -> None:
    """Show one failure: expected ones on ``status`` (a QLabel or a callable), others as a dialog.

    An expected failure without a status line still gets a dialog, so nothing is silent.
    """
    line = f"{title}: {message}" if title else message
    if is_expected(exc):
        log.info("%s", line)
        if _set_status(status, line):
            return
        show_error(parent, title, message)
        return
    _set_status(status, line)
    show_error(parent, title, message, details)


def failure_slot(parent: QWidget | None, title: str, status: StatusLine = None) -> Callable[[str, str, object], None]:
    """A slot for ``JobHandle.sig_failed(message, traceback, exception)`` that calls :func:`report_failure`."""

    def _on_failed(message: str, details: str, exc: object) -> None:
        report_failure(parent, title, message, details, exc, status)

    return _on_failed
