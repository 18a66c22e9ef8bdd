"""The one way errors reach the user.

* An expected problem (:class:`~medstation.errors.UserFacingError`: bad input, a
  missing model, an empty knowledge base, a refused permission) is a sentence on
  the tab's status line. No dialog: the user can fix it and go on.
* Anything else is a bug: a dialog with the sentence, the traceback under
  "details", and the log.
* The clinic database server gone away (at start, or a job's connection dropped while
  running) is neither: one plain dialog that names the server, says what to do and that
  nothing falls back to a local store (:func:`server_unreachable_text`), never a traceback.

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


SERVER_UNREACHABLE_TITLE = "Clinic database server unreachable"
_SERVER_BOX = "server_unreachable"


def server_unreachable_text(exc: object) -> str | None:
    """The plain sentence when ``exc`` says the clinic database server cannot be reached, else None.

    ``ServerUnreachable`` (raised when a store is opened) carries it already. A connection that
    drops later surfaces as SQLAlchemy's ``OperationalError`` around psycopg's; its host, port and
    database come from the failed connection (never its password)."""
    from medstation.store.engine import ServerUnreachable, unreachable_message  # lazy: SQLAlchemy comes with the store

    if isinstance(exc, ServerUnreachable):
        return str(exc)
    orig = getattr(exc, "orig", None)
    if orig is None or not type(orig).__module__.startswith("psycopg") or type(orig).__name__ != "OperationalError":
        return None
    pgconn = getattr(orig, "pgconn", None)
    host, port, db = (getattr(pgconn, name, None) or b"" for name in ("host", "port", "db"))
    if host:
        where = f"postgresql+psycopg://{host.decode()}:{port.decode() or 5432}/{db.decode()}"
        return unreachable_message(where, exc)
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else "the connection was lost"
    return (f"Lost the connection to the clinic database server: {reason}. MedStation does not fall back to a local "
            "store, so that no record is split between machines; check the network and the server, or ask the "
            "clinic admin. Unsaved work stays on screen: save again once the server is back.")


def show_server_unreachable(parent: QWidget | None, text: str, *, modal: bool = False) -> QMessageBox | None:
    """The one dialog for an unreachable clinic server; while one is open, another failure opens no second one.

    ``modal``: wait for the person (at start, before any window exists); else non-blocking."""
    log.error("%s: %s", SERVER_UNREACHABLE_TITLE, text)
    top = parent.window() if parent is not None else None
    if top is not None:
        for box in top.findChildren(QMessageBox, _SERVER_BOX):
            if box.isVisible():
                return None
    box = QMessageBox(top)
    box.setObjectName(_SERVER_BOX)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(SERVER_UNREACHABLE_TITLE)
    box.setText(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    if modal:
        box.exec()
    else:
        box.open()
    return box


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
    unreachable = server_unreachable_text(exc)
    if unreachable is not None:
        _set_status(status, unreachable)
        show_server_unreachable(parent, unreachable)
        return
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
