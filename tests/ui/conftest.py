"""Qt tests: message boxes answer themselves (see tests/qt_dialogs.py)."""

from tests.qt_dialogs import non_blocking_message_boxes  # noqa: F401


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _release_clipboard_spans():
    """pytest-qt never quits the application, so the editor's on-quit clipboard release runs here instead."""
    yield
    from medstation.ui.notes.editor import release_clipboard_spans

    release_clipboard_spans()
