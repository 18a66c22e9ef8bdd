"""One failure path for every tab: expected problems on the status line, bugs in a dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from medstation.errors import UserFacingError
from medstation.ui.errors import failure_slot
from medstation.ui.runner import JobRunner


def _dialogs(parent):
    return [box for box in parent.findChildren(QMessageBox)]


def test_expected_failure_goes_to_the_status_line_only(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    status = QLabel()

    def refuse(ctx):
        raise UserFacingError("The box has zero size.")

    runner = JobRunner()
    handle = runner.submit("io", refuse)
    handle.sig_failed.connect(failure_slot(parent, "Segmentation", status))
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    assert status.text() == "Segmentation: The box has zero size." and _dialogs(parent) == []
    runner.shutdown()


def test_unexpected_failure_opens_a_dialog_with_the_traceback(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    status = QLabel()

    def bug(ctx):
        return {}["missing"]

    runner = JobRunner()
    handle = runner.submit("io", bug)
    handle.sig_failed.connect(failure_slot(parent, "Export", status))
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    (box,) = _dialogs(parent)
    assert box.windowTitle() == "Export" and "KeyError" in box.detailedText()
    assert status.text() == "Export: 'missing'"
    runner.shutdown()


def test_expected_failure_without_status_line_still_tells_the_user(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    failure_slot(parent, "Chat", None)("The knowledge base is empty.", "", UserFacingError("x"))
    (box,) = _dialogs(parent)
    assert box.text() == "The knowledge base is empty." and box.detailedText() == ""
