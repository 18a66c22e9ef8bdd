"""The viewer tab's measurements: finished rulers, ROIs and angles kept as annotations of the series.

A mixin of :class:`~medstation.ui.viewer.tab.ViewerTab`, relying on its attributes (``annotations``,
``views``, ``measurement_list``, ``measure_label``, ``status``, ``toolbar``, ``db``, ``session``,
``_volume``) and helpers (``_submit``, ``set_mpr``). Saving, loading and deleting run as ``io`` jobs; with no
database (``db`` None) measurements last for the session only.
"""

from __future__ import annotations

from medstation.imaging.annotations import (
    Annotation, AnnotationKind, delete_annotation_job, load_annotations_job, save_annotation_job,
)


class MeasurementHandling:
    """Keeps, draws, lists, saves and deletes the open series' measurements (as :class:`Annotation`)."""

    def _on_view_measurement(self, m) -> None:
        """A finished ruler / ROI / angle: keep it (listed, drawn on its slice) and save it with the series."""
        plane, index = m["plane"], m["slice"]
        if m["kind"] == "ruler":
            text = f"Ruler ({plane}, slice {index + 1}): {m['mm']:.2f} mm"
        elif m["kind"] == "angle":
            text = f"Angle ({plane}, slice {index + 1}): {m['degrees']:.1f}°"
        else:
            unit = "HU" if self._volume is not None and self._volume.modality == "CT" else ""
            text = f"ROI ({plane}, slice {index + 1}): {m['stats'].text(unit)}"
        self.measure_label.setText(text)
        if self._volume is None:
            return
        annotation = Annotation(self._volume.series_uid, plane, int(index), AnnotationKind(m["kind"]),
                                tuple((float(x), float(y)) for x, y in m["points"]), m["text"])
        self.annotations.append(annotation)
        self._annotations_changed()
        if self.db is not None:
            self._submit(save_annotation_job, self.db, annotation, self._actor(), name="save measurement",
                         on_done=lambda stored, a=annotation: self._on_annotation_saved(a, stored))

    def _actor(self) -> str:
        actor = self.session.actor if self.session is not None else None
        return actor.name if actor is not None else ""

    def _on_annotation_saved(self, drawn: Annotation, stored: Annotation) -> None:
        self.annotations = [stored if a is drawn else a for a in self.annotations]
        self._annotations_changed()

    def _load_annotations(self, series_uid: str) -> None:
        self.annotations = []
        self._annotations_changed()
        if self.db is not None:
            self._submit(load_annotations_job, self.db, series_uid, name="load measurements",
                         on_done=lambda found, uid=series_uid: self._on_annotations_loaded(uid, found))

    def _on_annotations_loaded(self, series_uid: str, found) -> None:
        if self._volume is None or self._volume.series_uid != series_uid:
            return
        drawn_now = [a for a in self.annotations if a.id is None]  # drawn while the list was being read
        self.annotations = list(found) + drawn_now
        self._annotations_changed()

    def delete_annotation(self, annotation: Annotation) -> None:
        self.annotations = [a for a in self.annotations if a is not annotation and a != annotation]
        self._annotations_changed()
        if self.db is not None and annotation.id is not None:
            self._submit(delete_annotation_job, self.db, annotation.id, self._actor(), name="delete measurement",
                         on_done=lambda _ok: None)
        self.status.setText(f"Deleted {annotation.describe()}")

    def go_to_annotation(self, annotation: Annotation) -> None:
        view = self.views.get(annotation.plane)
        if view is None or self._volume is None:
            return
        if annotation.plane != "axial" and not self.toolbar.mpr.isChecked():
            self.set_mpr(True)
        view.set_index(annotation.slice_index)

    def _annotations_changed(self) -> None:
        self.measurement_list.fill(self.annotations)
        for view in self.views.values():
            self._draw_annotations(view)

    def _draw_annotations(self, view) -> None:
        view.show_annotations([a for a in self.annotations if a.plane == view.plane and a.slice_index == view.index])
