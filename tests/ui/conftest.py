"""Qt tests: message boxes answer themselves (see tests/qt_dialogs.py)."""

from tests.qt_dialogs import non_blocking_message_boxes  # noqa: F401


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _release_clipboard_spans():
    """pytest-qt never quits the application, so the editor's on-quit clipboard release runs here instead."""
    yield
    from medstation.ui.notes.editor import release_clipboard_spans

    release_clipboard_spans()


@pytest.fixture
def main_window_on(qtbot, medstation_home, monkeypatch):
    """A factory: ``main_window_on(width, height)`` is the whole window (no sample study) on a screen of that size,
    closed with its runner and services after the test. Layout tests say which screen they mean: the offscreen
    platform's own is 800 px wide."""
    from PySide6.QtCore import QRect

    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner

    made = []

    def make(width: int, height: int):
        monkeypatch.setattr(MainWindow, "_available_area", lambda self: QRect(0, 0, width, height), raising=False)
        services = build_services(Settings(sample_study=False))
        runner = JobRunner()
        made.append((services, runner))
        window = MainWindow(services, runner)
        qtbot.addWidget(window)
        return window

    yield make
    for services, runner in made:
        runner.shutdown()
        services.close()
