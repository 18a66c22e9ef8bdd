"""Qt tests: message boxes answer themselves (see tests/qt_dialogs.py)."""

from tests.qt_dialogs import non_blocking_message_boxes  # noqa: F401
