"""Real mouse events through Qt and pyqtgraph: ruler drag, right-drag window/level, wheel scrolling."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)


def _widget_point(view, x_px: float, y_px: float) -> QPoint:
    """Viewport pixel position of image pixel coordinate (x = column, y = row)."""
    scene = view.view_box.mapViewToScene(view.view_from_px(x_px, y_px))
    return view.graphics_view.mapFromScene(scene)


def _drag(viewport, start: QPoint, end: QPoint, button) -> None:
    QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 9):  # pyqtgraph needs several moves to start and follow a drag
        QTest.mouseMove(viewport, start + (end - start) * (k / 8.0))
        QApplication.processEvents()
    QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier, end)
    QApplication.processEvents()


def test_ruler_by_real_mouse_drag(loaded):
    view = loaded.axial_view
    loaded.set_tool("ruler")
    QApplication.processEvents()
    start, end = _widget_point(view, 5.0, 10.0), _widget_point(view, 35.0, 10.0)
    _drag(view.graphics_view.viewport(), start, end, Qt.MouseButton.LeftButton)
    m = view.last_measurement
    assert m is not None and m["kind"] == "ruler"
    # 30 columns of 0.6 mm, within the rounding of widget pixels.
    assert m["mm"] == pytest.approx(30 * 0.6, abs=0.6)


def test_right_drag_changes_window_and_wheel_scrolls(loaded):
    view = loaded.axial_view
    before = view.window
    start = _widget_point(view, 20.0, 16.0)
    _drag(view.graphics_view.viewport(), start, start + QPoint(60, 0), Qt.MouseButton.RightButton)
    assert view.window[1] > before[1] and loaded.coronal_view.window == view.window
    index = loaded.current_slice()
    pos = QPointF(start)
    wheel = QWheelEvent(pos, QPointF(view.graphics_view.viewport().mapToGlobal(start)), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.graphics_view.viewport(), wheel)
    assert loaded.current_slice() == index + 1
