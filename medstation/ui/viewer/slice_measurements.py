"""Measuring on a :class:`~medstation.ui.viewer.slice_view.SliceView`: ruler, rectangle ROI and angle.

A mixin of ``SliceView``, relying on its attributes (``view_box``, ``_image``, ``_spacing_rc``,
``_box_item``, ``volume``, ``index``, ``plane``, ``sig_measurement``) and ``view_from_px``. It keeps
the measurement being drawn now (``_drawn``, ``_angle_points``) and the finished ones of the shown
slice (``_annotation_items``: a line item and a label item per measurement).

All points are continuous pixel coordinates (x = column, y = row); lengths are millimetres,
areas mm², angles degrees, ROI statistics in modality units (HU for CT). A finished measurement is
emitted once as ``sig_measurement`` with a dict: ``kind`` ("ruler", "roi" or "angle"), ``points``
(pixel (x, y) tuples), ``text``, ``slice`` and ``plane``, plus ``mm``, ``p0``, ``p1`` (ruler),
``stats`` (:class:`~medstation.imaging.measure.RoiStats`) and ``rect`` (x0, y0, x1, y1) (ROI), or
``degrees`` (angle).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF

from medstation.imaging.annotations import angle_degrees
from medstation.imaging.measure import RoiStats, distance_mm, roi_stats

_MEASURE_PEN = pg.mkPen("#ffd23f", width=2)


class SliceMeasurements:
    """Draws measurements being made and finished ones, and measures ruler, ROI and angle."""

    def clear_measurements(self) -> None:
        """Remove the measurement being drawn (finished ones stay: see :meth:`show_annotations`)."""
        for item in self._drawn:
            self.view_box.removeItem(item)
        self._drawn.clear()
        self._angle_points.clear()
        self._box_item.setData([], [])

    def show_annotations(self, annotations) -> None:
        """Draw finished measurements (:class:`~medstation.imaging.annotations.Annotation`) of this slice."""
        for item in self._annotation_items:
            self.view_box.removeItem(item)
        self._annotation_items.clear()
        for a in annotations:
            pts = list(a.points)
            if a.kind.value == "roi":
                (x0, y0), (x1, y1) = pts
                self._draw([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], a.value_text.replace("  area", "\narea"),
                           label_box=(x0, y0, x1, y1), into=self._annotation_items)
            else:
                label_at = pts[1] if a.kind.value == "angle" else pts[-1]
                self._draw([p[0] for p in pts], [p[1] for p in pts], a.value_text, label_at=label_at,
                           into=self._annotation_items)

    def annotation_count(self) -> int:
        return len(self._annotation_items) // 2

    def _draw(self, xs_px, ys_px, label: str, label_at: tuple[float, float] | None = None,
              label_box: tuple[float, float, float, float] | None = None, into: list | None = None) -> None:
        pts = [self.view_from_px(x, y) for x, y in zip(xs_px, ys_px)]
        line = pg.PlotDataItem([p.x() for p in pts], [p.y() for p in pts], pen=_MEASURE_PEN, symbol="o", symbolSize=5,
                               symbolBrush="#ffd23f")
        if label_box is not None:
            pos, anchor = self._inside_label(label_box)
        else:
            pos, anchor = (self.view_from_px(*label_at) if label_at else pts[-1]), (0, 1)
        text = pg.TextItem(label, color="#ffd23f", anchor=anchor, fill=pg.mkBrush(0, 0, 0, 150))
        text.setPos(pos)
        for item in (line, text):
            item.setZValue(40)
            self.view_box.addItem(item, ignoreBounds=True)
            (self._drawn if into is None else into).append(item)

    def _inside_label(self, box) -> tuple[QPointF, tuple[float, float]]:
        """Where a box's label goes so it stays inside the view: at the box corner nearest the image
        centre, growing towards the centre (on screen, whichever way the plane's rows point)."""
        x0, y0, x1, y1 = box
        rows, cols = self._image.shape if self._image is not None else (1, 1)
        cx, cy = cols / 2.0, rows / 2.0
        corner = (min(x0, x1) if abs(min(x0, x1) - cx) < abs(max(x0, x1) - cx) else max(x0, x1),
                  min(y0, y1) if abs(min(y0, y1) - cy) < abs(max(y0, y1) - cy) else max(y0, y1))
        at, centre = self.view_from_px(*corner), self.view_from_px(cx, cy)
        s_at, s_centre = self.view_box.mapViewToScene(at), self.view_box.mapViewToScene(centre)
        anchor = (0.0 if s_centre.x() >= s_at.x() else 1.0, 0.0 if s_centre.y() >= s_at.y() else 1.0)
        return at, anchor

    def measure_line(self, p0: tuple[float, float], p1: tuple[float, float], *, final: bool = True) -> float:
        """Ruler from p0 to p1 (pixel x, y); draws it and returns its length in mm."""
        self.clear_measurements()
        mm = distance_mm(p0, p1, self._spacing_rc)
        self._draw([p0[0], p1[0]], [p0[1], p1[1]], f"{mm:.1f} mm")
        if final:
            self.last_measurement = {"kind": "ruler", "mm": mm, "p0": p0, "p1": p1, "points": (tuple(p0), tuple(p1)),
                                     "text": f"{mm:.1f} mm", "slice": self.index, "plane": self.plane}
            self.clear_measurements()  # the tab keeps it and draws it back as a finished measurement
            self.sig_measurement.emit(self.last_measurement)
        return mm

    def measure_roi(self, x0: float, y0: float, x1: float, y1: float, *, final: bool = True) -> RoiStats | None:
        """Rectangle ROI statistics (modality units) on the current image; draws the box and the numbers."""
        self.clear_measurements()
        if self._image is None:
            return None
        stats = roi_stats(self._image, x0, y0, x1, y1, self._spacing_rc)
        unit = "HU" if self.volume is not None and self.volume.modality == "CT" else ""
        text = stats.text(unit) if stats else "empty"
        self._draw([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], text.replace("  area", "\narea"),
                   label_box=(x0, y0, x1, y1))
        if final and stats is not None:
            self.last_measurement = {"kind": "roi", "stats": stats, "rect": (x0, y0, x1, y1),
                                     "points": ((x0, y0), (x1, y1)), "text": text, "slice": self.index,
                                     "plane": self.plane}
            self.clear_measurements()
            self.sig_measurement.emit(self.last_measurement)
        return stats

    def angle_click(self, point: tuple[float, float]) -> float | None:
        """Angle tool: first arm end, vertex, second arm end. Returns the angle (degrees) on the third click."""
        points = self._angle_points + [tuple(point)]
        for item in self._drawn:
            self.view_box.removeItem(item)
        self._drawn.clear()
        if len(points) < 3:
            self._draw([p[0] for p in points], [p[1] for p in points], "vertex?" if len(points) == 1 else "second arm?")
            self._angle_points = points
            return None
        self._angle_points = []
        try:
            degrees = angle_degrees(points[0], points[1], points[2], self._spacing_rc)
        except ValueError:  # two clicks on one point (a double-click): say so, or nothing seems to happen
            self._draw([p[0] for p in points], [p[1] for p in points],
                       "an arm has no length: click arm end, vertex, other arm end again")
            return None
        text = f"{degrees:.1f}°"
        self.last_measurement = {"kind": "angle", "degrees": degrees, "points": tuple(points), "text": text,
                                 "slice": self.index, "plane": self.plane}
        self.sig_measurement.emit(self.last_measurement)
        return degrees
