"""``SliceView``: one plane of a volume in a pyqtgraph view, with tools and overlays.

Scene coordinates are millimetres in the image plane (column step × row step),
so the image always shows its true aspect ratio. Public signals and methods use
continuous *pixel* coordinates (x = column, y = row; pixel (r, c) covers
[c, c+1) × [r, r+1)) as the segmentation contract in docs/ARCHITECTURE.md asks.

Mouse: wheel = next/previous slice (Ctrl+wheel zooms), left drag = pan in the
navigate tool, middle drag = pan, right drag = window/level, left click in the
navigate tool = move the crosshair. The ruler and ROI tools measure on left
drag; the angle tool takes three clicks (arm, vertex, arm). Finished
measurements are kept by the tab and drawn back with :meth:`show_annotations`
whenever their slice is shown. External tools (``register_tool``) receive every
gesture as signals.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from medstation.ui.viewer import planes
from medstation.ui.viewer.slice_measurements import SliceMeasurements
from medstation.ui.viewer.view_box import SliceViewBox

BUILTIN_TOOLS = ("navigate", "ruler", "roi", "angle")
_BOX_PEN = pg.mkPen("#3fd2ff", width=2, style=Qt.PenStyle.DashLine)
_CROSS_PEN = pg.mkPen((80, 200, 120, 170), width=1)


class SliceView(SliceMeasurements, QWidget):
    """One plane (``axial``, ``coronal`` or ``sagittal``) of a :class:`~medstation.imaging.volume.Volume`.

    Measuring (ruler, ROI, angle, finished annotations) comes from :class:`SliceMeasurements`.
    """

    sig_slice_changed = Signal(int)
    sig_window_changed = Signal(float, float)  # center, width
    sig_cursor = Signal(object)  # {"voxel": (z, y, x), "patient_mm": array(3), "value": float} or None
    sig_crosshair = Signal(object)  # voxel (z, y, x) picked with a left click in the navigate tool
    sig_measurement = Signal(object)  # {"kind": "ruler", "mm": float} or {"kind": "roi", "stats": RoiStats}
    sig_box_changed = Signal(float, float, float, float)
    sig_box_drawn = Signal(float, float, float, float)
    sig_point_clicked = Signal(float, float, bool)
    sig_brush = Signal(float, float, float, bool)
    sig_tool_changed = Signal(str)

    def __init__(self, plane: str = "axial", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane = plane
        self.volume = None
        self.index = 0
        self.window: tuple[float, float] = (40.0, 400.0)
        self.tool = "navigate"
        self._tools: dict[str, str] = {name: "builtin" for name in BUILTIN_TOOLS}
        self.brush_radius_px = 5.0
        self.last_measurement: dict | None = None
        self._spacing_rc = (1.0, 1.0)
        self._image: np.ndarray | None = None
        self._masks: dict[str, pg.ImageItem] = {}
        self._drawn: list = []  # the measurement being drawn now
        self._annotation_items: list = []  # finished measurements on this slice
        self._angle_points: list[tuple[float, float]] = []
        self._drag_start_px: tuple[float, float] | None = None
        self._cursor_px: tuple[float, float] | None = None  # where the mouse rests, so the readout follows scrolling
        self._wl_start: tuple[float, float] | None = None

        self.view_box = SliceViewBox(self)
        self.graphics_view = pg.GraphicsView(background="k")
        self.graphics_view.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self._cross_v = pg.InfiniteLine(angle=90, pen=_CROSS_PEN, movable=False)
        self._cross_h = pg.InfiniteLine(angle=0, pen=_CROSS_PEN, movable=False)
        for line in (self._cross_v, self._cross_h):
            line.setZValue(20)
            line.hide()
            self.view_box.addItem(line, ignoreBounds=True)
        self._points_item = pg.ScatterPlotItem(pen=pg.mkPen("k", width=1))
        self._points_item.setZValue(35)
        self.view_box.addItem(self._points_item, ignoreBounds=True)
        self._box_item = pg.PlotDataItem(pen=_BOX_PEN)
        self._box_item.setZValue(30)
        self.view_box.addItem(self._box_item, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics_view)
        self._corners = {}
        for corner in ("tl", "tr", "bl", "br", "left", "right", "top", "bottom"):
            label = QLabel(self.graphics_view)
            label.setStyleSheet("color: #e8e8e8; background: transparent; font-size: 11px;")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setAlignment(Qt.AlignmentFlag.AlignRight if corner.endswith("r") else Qt.AlignmentFlag.AlignLeft)
            if corner in planes.EDGES:
                label.setStyleSheet("color: #ffb347; background: transparent; font-size: 13px; font-weight: bold;")
            self._corners[corner] = label
        self.graphics_view.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        # Fit the image to the view on resize until the user pans or zooms by hand.
        self._user_moved = False
        self.view_box.sigRangeChangedManually.connect(lambda *_: setattr(self, "_user_moved", True))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 160)

    # -- data -----------------------------------------------------------------------------------
    def set_volume(self, volume, index: int | None = None, window: tuple[float, float] | None = None) -> None:
        self.volume = volume
        self._spacing_rc = planes.spacing_rc(self.plane, volume.spacing)
        self.view_box.invertY(not planes.rows_point_up(self.plane, volume.direction))
        inverted = str(volume.meta.get("photometric", "")).upper() == "MONOCHROME1"
        self.image_item.setLookupTable(np.arange(255, -1, -1, dtype=np.uint8) if inverted else None)
        if window:
            self.window = window
        self.set_overlay_text(**planes.edge_letters(self.plane, volume.direction))
        n = self.n_slices()
        self._cursor_px = None
        self.sig_cursor.emit(None)
        self.index = -1
        self.set_index(n // 2 if index is None else index)
        self.fit()

    def fit(self) -> None:
        """Show the whole image (and forget any manual zoom/pan)."""
        self._user_moved = False
        self.view_box.autoRange(padding=0.02)

    def show_preview(self, image: np.ndarray, spacing_rc: tuple[float, float]) -> None:
        """Show one decoded slice while the rest of the volume is still loading."""
        self._spacing_rc = spacing_rc
        self._show(image)
        self.view_box.autoRange(padding=0.02)

    def clear_preview(self) -> None:
        """Take a preview slice off the screen (another series is opening before this one finished loading)."""
        if self.volume is None:
            self._image = None
            self.image_item.clear()

    def n_slices(self) -> int:
        return planes.n_slices(self.plane, self.volume.shape) if self.volume is not None else 0

    def current_image(self) -> np.ndarray | None:
        return self._image

    def set_index(self, index: int) -> None:
        if self.volume is None:
            return
        index = int(np.clip(index, 0, self.n_slices() - 1))
        if index == self.index:
            return
        self.index = index
        self.clear_measurements()
        self._show(planes.plane_image(self.volume.pixels, self.plane, index))
        self._emit_cursor()
        self.sig_slice_changed.emit(index)

    def step(self, delta: int) -> None:
        self.set_index(self.index + delta)

    def _show(self, image: np.ndarray) -> None:
        self._image = np.ascontiguousarray(image)
        rows, cols = self._image.shape
        lo, hi = self.window[0] - self.window[1] / 2, self.window[0] + self.window[1] / 2
        self.image_item.setImage(self._image, autoLevels=False, levels=(lo, hi))
        self.image_item.setRect(QRectF(0, 0, cols * self._spacing_rc[1], rows * self._spacing_rc[0]))

    def set_window(self, center: float, width: float) -> None:
        width = max(float(width), 1e-3)
        self.window = (float(center), width)
        self.image_item.setLevels((center - width / 2, center + width / 2))
        self.sig_window_changed.emit(float(center), width)

    # -- coordinates ----------------------------------------------------------------------------
    def px_from_view(self, point: QPointF) -> tuple[float, float]:
        """(x = column, y = row) continuous pixel coordinates of a view (mm) point."""
        return (point.x() / self._spacing_rc[1], point.y() / self._spacing_rc[0])

    def view_from_px(self, x: float, y: float) -> QPointF:
        return QPointF(x * self._spacing_rc[1], y * self._spacing_rc[0])

    def voxel_at_px(self, x: float, y: float) -> tuple[float, float, float]:
        return planes.to_voxel(self.plane, self.index, y, x)

    # -- crosshair and overlay ------------------------------------------------------------------
    def set_crosshair(self, x: float | None, y: float | None = None) -> None:
        """Show crosshair lines through pixel (x, y) (pixel centres: pass col + 0.5), or hide with None."""
        if x is None or y is None:
            self._cross_v.hide()
            self._cross_h.hide()
            return
        point = self.view_from_px(x, y)
        self._cross_v.setPos(point.x())
        self._cross_h.setPos(point.y())
        self._cross_v.show()
        self._cross_h.show()

    def set_overlay_text(self, **corners: str) -> None:
        """Corner texts ``tl``, ``tr``, ``bl``, ``br`` and edge letters ``left``, ``right``, ``top``, ``bottom``."""
        for key, text in corners.items():
            self._corners[key].setText(text)
            self._corners[key].adjustSize()
        self._place_corners()

    def set_overlay_visible(self, visible: bool) -> None:
        for label in self._corners.values():
            label.setVisible(visible)

    def overlay_text(self) -> dict[str, str]:
        return {k: v.text() for k, v in self._corners.items()}

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_corners()
        if not self._user_moved and self._image is not None:
            self.view_box.autoRange(padding=0.02)

    def _place_corners(self) -> None:
        w, h, m = self.graphics_view.width(), self.graphics_view.height(), 6
        for key, label in self._corners.items():
            label.adjustSize()
            if key in planes.EDGES:  # orientation letters sit at the middle of each edge
                x = {"left": m, "right": w - label.width() - m}.get(key, (w - label.width()) // 2)
                y = {"top": m, "bottom": h - label.height() - m}.get(key, (h - label.height()) // 2)
            else:
                x = m if key.endswith("l") else w - label.width() - m
                y = m if key.startswith("t") else h - label.height() - m
            label.move(max(0, x), max(0, y))

    # -- tools ----------------------------------------------------------------------------------
    def register_tool(self, name: str, shape: str = "box") -> None:
        """Add an external tool; ``shape`` says which gestures it gets while active:

        * ``"box"``: left drag -> ``sig_box_changed`` while dragging, ``sig_box_drawn`` on release;
        * ``"point"``: click -> ``sig_point_clicked(x, y, positive)`` (left = positive, right/shift = negative);
        * ``"brush"``: click or drag -> ``sig_brush(x, y, radius_px, erase)`` (right/shift = erase).
        """
        if shape not in ("box", "point", "brush"):
            raise ValueError(f"tool shape must be box, point or brush, not {shape!r}")
        self._tools[name] = shape

    def tools(self) -> list[str]:
        return list(self._tools)

    def set_tool(self, name: str) -> None:
        if name not in self._tools:
            raise ValueError(f"unknown tool {name!r}; known: {', '.join(self._tools)}")
        self.tool = name
        self._box_item.setData([], [])
        self.sig_tool_changed.emit(name)

    def set_mask_overlay(self, key: str, mask2d: np.ndarray | None, color: str = "#ff4040", opacity: float = 0.4) -> None:
        """Show ``mask2d`` (rows, columns; nonzero = inside) tinted with ``color``; None removes it.

        An existing overlay is updated in place (a brush stroke calls this on every mouse move).
        Overlays never count for the view's bounds, so fitting always frames the image itself.
        """
        if mask2d is None:
            item = self._masks.pop(key, None)
            if item is not None:
                self.view_box.removeItem(item)
            return
        qcolor = pg.mkColor(color)
        rgba = np.zeros(mask2d.shape + (4,), np.uint8)
        inside = np.asarray(mask2d) > 0
        rgba[inside] = (qcolor.red(), qcolor.green(), qcolor.blue(), int(255 * float(opacity)))
        item = self._masks.get(key)
        if item is None:
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(10)
            self.view_box.addItem(item, ignoreBounds=True)
            self._masks[key] = item
        item.setImage(rgba, autoLevels=False, levels=(0, 255))
        item.setRect(QRectF(0, 0, mask2d.shape[1] * self._spacing_rc[1], mask2d.shape[0] * self._spacing_rc[0]))

    def set_point_markers(self, points, labels) -> None:
        """Draw prompt points exactly where they were clicked: pixel (x, y) list; labels 1 include (green), 0 exclude (red)."""
        spots = []
        for (x, y), label in zip(points, labels):
            p = self.view_from_px(x, y)
            spots.append({"pos": (p.x(), p.y()), "brush": pg.mkBrush("#40ff60" if label else "#ff4060"),
                          "symbol": "o" if label else "x", "size": 11})
        self._points_item.setData(spots)

    def point_markers(self) -> list[tuple[float, float]]:
        """Marker centres in pixel (x, y), for tests and screenshots."""
        xs, ys = self._points_item.getData()
        if xs is None:
            return []
        return [self.px_from_view(QPointF(float(x), float(y))) for x, y in zip(xs, ys)]

    def mask_keys(self) -> list[str]:
        return list(self._masks)

    # -- gestures (called by SliceViewBox) -------------------------------------------------------
    def drag_window(self, dx_screen: float, dy_screen: float, start: tuple[float, float]) -> None:
        """Window/level from a right drag: right widens the window, down raises the level."""
        center, width = start
        scale = max(width, 1.0) / 200.0
        self.set_window(center + dy_screen * scale, max(1.0, width + dx_screen * scale * 2))

    def tool_drag(self, p0, p1, button, finished: bool, modifiers) -> None:
        """A left/right drag from pixel p0 to p1 with the current (non-navigate) tool."""
        if self.tool == "ruler":
            self.measure_line(p0, p1, final=finished)
            return
        if self.tool == "roi":
            self.measure_roi(p0[0], p0[1], p1[0], p1[1], final=finished)
            return
        shape = self._tools.get(self.tool)
        negative = button == Qt.MouseButton.RightButton or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if shape == "box":
            x0, x1 = sorted((p0[0], p1[0]))
            y0, y1 = sorted((p0[1], p1[1]))
            corners = [self.view_from_px(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
            self._box_item.setData([c.x() for c in corners], [c.y() for c in corners])
            if finished:
                self._box_item.setData([], [])
                self.sig_box_drawn.emit(x0, y0, x1, y1)
            else:
                self.sig_box_changed.emit(x0, y0, x1, y1)
        elif shape == "brush":
            self.sig_brush.emit(p1[0], p1[1], float(self.brush_radius_px), negative)

    def tool_click(self, point, button, modifiers) -> None:
        """A click at pixel ``point`` (x, y)."""
        negative = button == Qt.MouseButton.RightButton or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        self.setFocus()
        if self.tool == "angle":
            if button == Qt.MouseButton.LeftButton and self.volume is not None:
                self.angle_click(point)
            return
        if self.tool == "navigate":
            if button == Qt.MouseButton.LeftButton and self.volume is not None:
                # Pixel (r, c) spans [c, c+1) x [r, r+1): the clicked voxel is the floor.
                self.sig_crosshair.emit(self.voxel_at_px(float(np.floor(point[0])), float(np.floor(point[1]))))
            return
        shape = self._tools.get(self.tool)
        if shape == "box":  # a click is a zero-size box: the tool says why nothing happens
            self.sig_box_drawn.emit(point[0], point[1], point[0], point[1])
        elif shape == "point":
            self.sig_point_clicked.emit(point[0], point[1], not negative)
        elif shape == "brush":
            self.sig_brush.emit(point[0], point[1], float(self.brush_radius_px), negative)

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        if self.volume is None or self._image is None:
            return
        self._cursor_px = self.px_from_view(self.view_box.mapSceneToView(scene_pos))
        self._emit_cursor()

    def _emit_cursor(self) -> None:
        """Readout at the resting mouse position for the slice shown now (None outside the image)."""
        if self._cursor_px is None or self._image is None or self.volume is None:
            return
        x, y = self._cursor_px
        rows, cols = self._image.shape
        if not (0 <= x < cols and 0 <= y < rows):
            self.sig_cursor.emit(None)
            return
        voxel = self.voxel_at_px(np.floor(x), np.floor(y))
        self.sig_cursor.emit(
            {"voxel": voxel, "patient_mm": self.volume.voxel_to_patient(*voxel), "value": float(self._image[int(y), int(x)]),
             "plane": self.plane}
        )

    def keyPressEvent(self, event) -> None:  # noqa: N802
        steps = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -10, Qt.Key.Key_PageDown: 10}
        if event.key() in steps:
            self.step(steps[event.key()])
        elif event.key() == Qt.Key.Key_Home:
            self.set_index(0)
        elif event.key() == Qt.Key.Key_End:
            self.set_index(self.n_slices() - 1)
        elif event.key() == Qt.Key.Key_Escape:
            self.clear_measurements()
        else:
            super().keyPressEvent(event)
