"""The pyqtgraph ``ViewBox`` of a :class:`~medstation.ui.viewer.slice_view.SliceView`: turns mouse gestures into view calls.

Only gesture routing lives here; what a gesture does (scroll, window/level,
measure, emit a prompt signal) is decided by the SliceView.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

_WL_TOOLS = ("navigate", "ruler", "roi", "angle")


class SliceViewBox(pg.ViewBox):
    def __init__(self, view) -> None:
        super().__init__(lockAspect=True, enableMenu=False, invertY=True)
        self._view = view
        self._wl_origin: tuple[float, float] | None = None

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        self._view.step(-1 if ev.delta() > 0 else 1)
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        view, button = self._view, ev.button()
        if button == Qt.MouseButton.RightButton and view.tool in _WL_TOOLS:
            ev.accept()
            if ev.isStart() or self._wl_origin is None:
                self._wl_origin = view.window
            delta = ev.screenPos() - ev.buttonDownScreenPos()
            view.drag_window(delta.x(), delta.y(), self._wl_origin)
            if ev.isFinish():
                self._wl_origin = None
            return
        if button == Qt.MouseButton.MiddleButton or view.tool == "navigate":
            super().mouseDragEvent(ev, axis)  # pan
            return
        ev.accept()
        p0 = view.px_from_view(self.mapToView(ev.buttonDownPos()))
        p1 = view.px_from_view(self.mapToView(ev.pos()))
        view.tool_drag(p0, p1, button, ev.isFinish(), ev.modifiers())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        ev.accept()
        point = self._view.px_from_view(self.mapToView(ev.pos()))
        self._view.tool_click(point, ev.button(), ev.modifiers())
