"""The Viewer tab: series browser, slice views (single or MPR), measurement, tags and export.

Every file or database access runs as a job in the ``io`` lane; the GUI thread
only shows results. Segmentation plugs in through ``add_side_panel`` and the
``axial_view`` signals (see docs/ARCHITECTURE.md, "Segmentation UI contract");
the main window mounts the panel, the tab only hosts it.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from medstation.access.roles import Permission
from medstation.imaging.completeness import unopened_siblings_job
from medstation.imaging.windowing import auto_window, presets_for, resolve_window
from medstation.ui.errors import failure_slot, show_error
from medstation.imaging.annotations import (
    Annotation, AnnotationKind, delete_annotation_job, load_annotations_job, save_annotation_job,
)
from medstation.ui.viewer.browser import SeriesBrowser
from medstation.ui.viewer.measurements import MeasurementList
from medstation.ui.viewer.overlay import overlay_corners
from medstation.ui.viewer.series_preview import SeriesPreviewPanel, series_preview_job
from medstation.ui.viewer.slice_view import SliceView
from medstation.ui.viewer.tag_browser import TagBrowser
from medstation.ui.viewer.toolbar import ViewerToolbar

log = logging.getLogger(__name__)
CINE_FPS = 15


def problems_summary(problems, limit: int = 3) -> str:
    """'N file(s) skipped: 3 not DICOM, 1 no pixel data' from [(path, reason), ...] ('' when none)."""
    if not problems:
        return ""
    counts = Counter(str(reason).split(":")[0].strip() for _path, reason in problems)
    parts = [f"{n} {reason}" for reason, n in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"{sum(n for _r, n in counts.most_common()[limit:])} other")
    return f"{len(problems)} file(s) skipped: " + ", ".join(parts)


def save_image_job(ctx, image, path: str) -> str:
    """Job: write a QImage (thread-safe, unlike QPixmap) to ``path`` as PNG."""
    ctx.check()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)


class ViewerTab(QWidget):
    """DICOM viewer. ``start(open_path)`` is called by the main window once it is shown.

    ``imaging``: the ImagingService; ``settings``: where exports go and whether to open the sample study;
    ``db``: where measurements are kept (None: they last for the session only); ``session``: who draws them.
    """

    sig_volume_loaded = Signal(object)  # Volume
    sig_slice_changed = Signal(int)  # axial slice index
    sig_catalog_changed = Signal()

    def __init__(self, imaging, settings, runner, *, db=None, session=None) -> None:
        super().__init__()
        self.db = db
        self.session = session
        self.annotations: list[Annotation] = []  # of the open series
        self.settings = settings
        self.runner = runner
        self.imaging = imaging
        self._loading_volume = False
        self._index_note = ""  # skipped files of the last indexing, kept on the status line
        self._volume = None
        self._series_uid = ""
        self._crosshair = None  # voxel (z, y, x)
        self._load_handle = None
        self._side_panels = []

        self.toolbar = ViewerToolbar(self)
        self.browser = SeriesBrowser()
        self.tag_browser = TagBrowser()
        self.left_tabs = QTabWidget()
        self.series_preview = SeriesPreviewPanel()
        self._preview_handle = None
        series_page = QWidget()
        series_layout = QVBoxLayout(series_page)
        series_layout.setContentsMargins(0, 0, 0, 0)
        series_layout.addWidget(self.browser, 1)
        series_layout.addWidget(self.series_preview)
        self.left_tabs.addTab(series_page, "Series")
        self.left_tabs.addTab(self.tag_browser, "Tags")
        self.measurement_list = MeasurementList()
        self.left_tabs.addTab(self.measurement_list, "Measurements")

        self.axial_view = SliceView("axial")
        self.coronal_view = SliceView("coronal")
        self.sagittal_view = SliceView("sagittal")
        self.views = {"axial": self.axial_view, "coronal": self.coronal_view, "sagittal": self.sagittal_view}
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slice_label = QLabel("No series loaded")
        self.readout = QLabel("")
        self.measure_label = QLabel("")
        self.status = QLabel("")
        for label in (self.readout, self.measure_label, self.status):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.view_area = QWidget()
        grid = QGridLayout(self.view_area)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.axial_view, 0, 0, 2, 1)
        grid.addWidget(self.coronal_view, 0, 1)
        grid.addWidget(self.sagittal_view, 1, 1)
        self._grid = grid
        center = QWidget()
        c_layout = QVBoxLayout(center)
        c_layout.setContentsMargins(0, 0, 0, 0)
        c_layout.addWidget(self.view_area, 1)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.slice_label)
        slider_row.addWidget(self.slider, 1)
        c_layout.addLayout(slider_row)
        c_layout.addWidget(self.readout)
        c_layout.addWidget(self.measure_label)
        c_layout.addWidget(self.status)

        self.side_tabs = QTabWidget()
        self.side_tabs.hide()
        splitter = QSplitter()
        splitter.addWidget(self.left_tabs)
        splitter.addWidget(center)
        splitter.addWidget(self.side_tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 1000, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)

        self._cine = QTimer(self)
        self._cine.setInterval(int(1000 / CINE_FPS))
        self._tags_timer = QTimer(self)
        self._tags_timer.setSingleShot(True)
        self._tags_timer.setInterval(200)
        self._connect()
        self.set_mpr(False)

    # -- wiring ---------------------------------------------------------------------------------
    def _connect(self) -> None:
        tb = self.toolbar
        tb.open_folder.triggered.connect(self._on_open_folder)
        tb.open_files.triggered.connect(self._on_open_files)
        tb.presets.activated.connect(lambda _i: self.apply_preset(tb.presets.currentData()))
        tb.tool_group.triggered.connect(lambda action: self.set_tool(action.data()))
        tb.mpr.toggled.connect(self.set_mpr)
        tb.fit.triggered.connect(self.fit_views)
        tb.cine.toggled.connect(self.set_cine)
        tb.overlay.toggled.connect(self.set_overlay_visible)
        tb.time_point.valueChanged.connect(lambda v: self.open_series(self._series_uid, time_point=v - 1))
        tb.screenshot.triggered.connect(lambda: self.export_screenshot())
        tb.export.triggered.connect(lambda: self.export_deidentified())
        self.browser.sig_series_activated.connect(self.open_series)
        self.browser.itemClicked.connect(self._on_browser_clicked)
        self.slider.valueChanged.connect(self.set_slice)
        self._cine.timeout.connect(self._on_cine_tick)
        self._tags_timer.timeout.connect(self._refresh_tags)
        self.left_tabs.currentChanged.connect(lambda _i: self._tags_timer.start())
        for view in self.views.values():
            view.sig_window_changed.connect(self._on_view_window_changed)
            view.sig_cursor.connect(self._on_view_cursor)
            view.sig_crosshair.connect(self.set_crosshair)
            view.sig_measurement.connect(self._on_view_measurement)
            view.sig_slice_changed.connect(self._update_overlay)
            view.sig_slice_changed.connect(lambda _i, v=view: self._draw_annotations(v))
        self.measurement_list.sig_go_to.connect(self.go_to_annotation)
        self.measurement_list.sig_delete.connect(self.delete_annotation)
        self.axial_view.sig_slice_changed.connect(self._on_axial_slice_changed)
        self.axial_view.sig_tool_changed.connect(self._on_axial_tool_changed)

    # -- segmentation contract ------------------------------------------------------------------
    def current_volume(self):
        return self._volume

    def current_slice(self) -> int:
        return self.axial_view.index

    def set_slice(self, index: int) -> None:
        self.axial_view.set_index(int(index))

    def add_side_panel(self, widget: QWidget, title: str) -> None:
        self._side_panels.append(widget)
        self.side_tabs.addTab(widget, title)
        self.side_tabs.show()

    # -- jobs -----------------------------------------------------------------------------------
    def _submit(self, fn, *args, name: str, on_done, on_partial=None, error_title: str = "Viewer", **kwargs):
        """Run ``fn(ctx, *args, **kwargs)`` in the io lane (queued) with our slots connected.

        Connecting right after submit is safe: the runner starts the job on the next event-loop turn.
        """
        handle = self.runner.submit("io", fn, *args, name=name, queue=True, **kwargs)
        handle.sig_done.connect(on_done)
        handle.sig_failed.connect(failure_slot(self, error_title, self.status))
        handle.sig_progress.connect(lambda f, m: self.status.setText(f"{m} ({f:.0%})"))
        if on_partial is not None:
            handle.sig_partial.connect(on_partial)
        return handle

    def start(self, open_path=None) -> None:
        """Index ``open_path`` (or the sample CT on first run) and open its largest series."""
        if open_path is not None:
            self.open_paths([open_path])
        elif self.settings.sample_study:
            self._submit(self.imaging.index_and_list_job, None, name="index sample", on_done=self._on_indexed, error_title="Sample study")
        else:
            self.refresh_catalog()

    def open_paths(self, paths) -> None:
        self.status.setText(f"Indexing {len(paths)} location(s)…")
        self._submit(self.imaging.index_and_list_job, [str(p) for p in paths], name="index", on_done=self._on_indexed, error_title="Open")

    def refresh_catalog(self) -> None:
        self._submit(self.imaging.list_job, name="catalog", on_done=self._on_catalog)

    def _on_catalog(self, patients) -> None:
        self.browser.populate(patients)
        if self._series_uid:
            self.browser.select_series(self._series_uid)
        self.sig_catalog_changed.emit()

    def _on_indexed(self, result) -> None:
        report, patients = result
        self._on_catalog(patients)
        summary = problems_summary(report.problems)
        self._index_note = f"indexing: {summary} (hover for the list)" if summary else ""
        self.status.setText(report.summary() + (f"; {summary} (hover for the list)" if summary else ""))
        self.status.setToolTip("\n".join(f"{p}: {r}" for p, r in report.problems[:50]))
        sizes = {se.series_uid: se.n_instances for p in patients for st in p.studies for se in st.series}
        found = [uid for uid in report.series_uids if uid in sizes]
        if not found:
            show_error(self, "No images", "No DICOM images were found there." + (f" ({report.problems[0][1]})" if report.problems else ""))
            return
        self.open_series(max(found, key=lambda uid: sizes[uid]))

    def open_series(self, series_uid: str, time_point: int | None = None) -> None:
        if not series_uid:
            return
        if self._load_handle is not None and not self._load_handle.finished:
            self._load_handle.cancel()
        self._series_uid = series_uid
        self.browser.select_series(series_uid)
        self.status.setText("Loading series…")
        self._load_handle = self._submit(
            self.imaging.load_series_job, series_uid, time_point=time_point, name="load series",
            on_done=self._on_volume_loaded, on_partial=self._on_load_partial, error_title="Load series",
        )

    def _on_browser_clicked(self, item, _column: int = 0) -> None:
        from medstation.ui.viewer.browser import SERIES_INFO_ROLE, SERIES_UID_ROLE

        uid = item.data(0, SERIES_UID_ROLE)
        if uid and uid != self._series_uid:
            self.status.setText(f"{item.text(0)}: double-click (or press Enter) to open this series.")
        info = item.data(0, SERIES_INFO_ROLE)
        if uid and info is not None:
            self.preview_series(info, item.text(0))

    def preview_series(self, info, label: str = "") -> None:
        """Show ``info``'s (a SeriesInfo) middle slice and facts under the browser, read in the io lane."""
        if self._preview_handle is not None and not self._preview_handle.finished:
            self._preview_handle.cancel()  # the user clicked on: only the newest click matters
        self.series_preview.show_pending(info.series_uid, label or info.description)
        handle = self.runner.submit("io", series_preview_job, self.imaging, info, name="series preview", queue=True)
        handle.sig_done.connect(self.series_preview.show_preview)
        handle.sig_failed.connect(lambda message, _details, _exc, uid=info.series_uid:
                                  self.series_preview.show_failure(uid, message))
        self._preview_handle = handle

    def _on_load_partial(self, obj) -> None:
        if isinstance(obj, dict) and obj.get("kind") == "preview" and self._volume is None:
            self.axial_view.show_preview(obj["image"], obj.get("spacing_rc", (1.0, 1.0)))
            if obj["index"] is None:
                self.slice_label.setText("Loading… (first image read)")
            else:
                self.slice_label.setText(f"Loading… (slice {obj['index'] + 1}/{obj['n_slices']})")

    # -- volume ---------------------------------------------------------------------------------
    def _on_volume_loaded(self, volume) -> None:
        self._volume = volume
        window = volume.window or auto_window(volume.pixels)
        self._fill_presets(volume.modality)
        self.slider.blockSignals(True)
        self.slider.setRange(0, volume.shape[0] - 1)
        self.slider.setEnabled(True)
        self.slider.blockSignals(False)
        # Side panels hear about the new volume once, after every view shows it: a slice signal in
        # between would reach them with the old series' segments.
        self._loading_volume = True
        try:
            for view in self.views.values():
                view.set_volume(volume, window=window)
            self._crosshair = tuple(float(n // 2) for n in volume.shape)
            self.set_crosshair(self._crosshair)
        finally:
            self._loading_volume = False
        self.readout.setText("")
        self.measure_label.setText("")
        self.toolbar.show_time_points(int(volume.meta.get("n_time_points", 1)))
        skipped = volume.meta.get("skipped", [])
        notes = list(volume.meta.get("notes", []))
        if self._index_note:
            notes.append(self._index_note)  # still shown once the series is open, not only while indexing
        if skipped:
            notes.append(problems_summary(skipped))
            self.status.setToolTip("\n".join(f"{p}: {r}" for p, r in skipped[:50]))
        self.status.setText(f"Loaded {volume.shape[0]} slices {volume.shape[1]}×{volume.shape[2]}" + (" — " + "; ".join(notes) if notes else ""))
        self._update_overlay()
        self._on_axial_slice_changed(self.axial_view.index)
        self._tags_timer.start()
        self._load_annotations(volume.series_uid)
        if volume.source_paths:
            self._submit(unopened_siblings_job, volume.series_uid, list(volume.source_paths), name="check series",
                         on_done=lambda found, uid=volume.series_uid: self._on_siblings_checked(uid, found))
        self.sig_volume_loaded.emit(volume)
        QTimer.singleShot(0, self.fit_views)  # once the layout has settled, frame the whole image

    def _on_siblings_checked(self, series_uid: str, found) -> None:
        if not found or self._volume is None or self._volume.series_uid != series_uid:
            return
        folder = Path(found[0]).parent
        self.status.setText(self.status.text() + f" — WARNING: series opened incomplete: {len(found)} more file(s) "
                            f"of it in {folder.name}/ were not opened (Open folder loads them all)")

    def fit_views(self) -> None:
        """Fit/reset: every plane shows its whole image, with no manual zoom or pan left."""
        for view in self.views.values():
            if view.volume is not None:
                view.fit()

    def _fill_presets(self, modality: str) -> None:
        combo = self.toolbar.presets
        combo.clear()
        for preset in presets_for(modality):
            combo.addItem(preset.label, preset.key)

    def apply_preset(self, key: str) -> None:
        """Apply window preset ``key`` (see :func:`medstation.imaging.windowing.presets_for`)."""
        vol = self._volume
        if vol is None or not key:
            return
        window = resolve_window(key, vol.pixels, vol.modality, vol.window)
        combo = self.toolbar.presets
        index = combo.findData(key)
        if index >= 0 and combo.currentIndex() != index:
            combo.setCurrentIndex(index)
        self.axial_view.set_window(*window)

    def _on_view_window_changed(self, center: float, width: float) -> None:
        for view in self.views.values():
            if view.window != (center, width):
                view.blockSignals(True)
                view.set_window(center, width)
                view.blockSignals(False)
        self._update_overlay()

    # -- navigation -----------------------------------------------------------------------------
    def _on_axial_slice_changed(self, index: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        if self._volume is not None:
            self.slice_label.setText(f"Slice {index + 1}/{self._volume.shape[0]}")
            if self._crosshair is not None and int(round(self._crosshair[0])) != index:
                self.set_crosshair((float(index), self._crosshair[1], self._crosshair[2]))
        self._tags_timer.start()
        if not self._loading_volume:
            self.sig_slice_changed.emit(index)

    def set_crosshair(self, voxel) -> None:
        """Move every plane to the voxel (z, y, x) and draw the crosshair through it."""
        if self._volume is None:
            return
        z, y, x = (float(np.clip(v, 0, n - 1)) for v, n in zip(voxel, self._volume.shape))
        self._crosshair = (z, y, x)
        self.axial_view.set_index(int(round(z)))
        self.coronal_view.set_index(int(round(y)))
        self.sagittal_view.set_index(int(round(x)))
        show = self.toolbar.mpr.isChecked()
        self.axial_view.set_crosshair(x + 0.5, y + 0.5) if show else self.axial_view.set_crosshair(None)
        self.coronal_view.set_crosshair(x + 0.5, z + 0.5)
        self.sagittal_view.set_crosshair(y + 0.5, z + 0.5)

    def set_mpr(self, on: bool) -> None:
        if self.toolbar.mpr.isChecked() != on:
            self.toolbar.mpr.setChecked(on)
            return
        self.coronal_view.setVisible(on)
        self.sagittal_view.setVisible(on)
        self._grid.setColumnStretch(0, 3)
        self._grid.setColumnStretch(1, 2 if on else 0)
        if self._crosshair is not None:
            self.set_crosshair(self._crosshair)


    def set_tool(self, name: str) -> None:
        for view in self.views.values():
            if name in view.tools():
                view.set_tool(name)
        action = self.toolbar.tool_actions.get(name)
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def _on_axial_tool_changed(self, name: str) -> None:
        """Keep the toolbar honest when a side panel (segmentation) picks one of its own tools."""
        group = self.toolbar.tool_group
        action = self.toolbar.tool_actions.get(name)
        if action is not None:
            group.setExclusionPolicy(group.ExclusionPolicy.Exclusive)
            action.setChecked(True)
        elif group.checkedAction() is not None:
            group.setExclusionPolicy(group.ExclusionPolicy.ExclusiveOptional)
            group.checkedAction().setChecked(False)

    def set_cine(self, on: bool) -> None:
        self._cine.start() if on and self._volume is not None else self._cine.stop()

    def _on_cine_tick(self) -> None:
        if self._volume is None:
            return
        self.set_slice((self.axial_view.index + 1) % self._volume.shape[0])

    def set_overlay_visible(self, visible: bool) -> None:
        for view in self.views.values():
            view.set_overlay_visible(visible)

    def _update_overlay(self, *_args) -> None:
        if self._volume is None:
            return
        for view in self.views.values():
            view.set_overlay_text(**overlay_corners(self._volume, view.plane, view.index, view.window))

    def _on_view_cursor(self, info) -> None:
        if info is None or self._volume is None:
            self.readout.setText("")
            return
        x, y, z = info["patient_mm"]
        unit = " HU" if self._volume.modality == "CT" else ""
        vz, vy, vx = (int(v) for v in info["voxel"])
        self.readout.setText(f"X {x:.1f}  Y {y:.1f}  Z {z:.1f} mm (patient, LPS)   value {info['value']:.0f}{unit}   voxel z{vz} y{vy} x{vx}")

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

    # -- tags -----------------------------------------------------------------------------------
    def _refresh_tags(self) -> None:
        if self._volume is None or self.left_tabs.currentWidget() is not self.tag_browser:
            return
        path = self._volume.source_paths[self.axial_view.index]
        if path != self.tag_browser.path:
            self._submit(self.imaging.tags_job, path, name="tags", on_done=lambda r: self.tag_browser.show_tags(*r))

    # -- export ---------------------------------------------------------------------------------
    def export_screenshot(self, path: str | None = None):
        """Save the image area as PNG (asks where when ``path`` is None). Returns the job handle."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", str(Path.home() / "medstation.png"), "PNG (*.png)")
            if not path:
                return None
        image = self.view_area.grab().toImage()
        return self._submit(save_image_job, image, path, name="screenshot", on_done=lambda p: self.status.setText(f"Saved {p}"))

    def export_deidentified(self, out_dir: str | None = None):
        """Write a de-identified copy of the current series (asks where when ``out_dir`` is None)."""
        if not self._series_uid:
            show_error(self, "Export", "Open a series first.")
            return None
        if out_dir is None:
            out_dir = QFileDialog.getExistingDirectory(self, "Export de-identified series to…", str(self.settings.exports_dir))
            if not out_dir:
                return None
        return self._submit(self._export_job, self._series_uid, out_dir, name="export", on_done=self._on_exported,
                            error_title="Export")

    def _export_job(self, ctx, series_uid, target, **options):
        """Job (io lane): the export, audited as the session's actor (a refusal becomes a status line)."""
        actor = self.session.require(Permission.export_imaging).name
        return self.imaging.export_deidentified_job(ctx, series_uid, target, actor=actor, **options)

    def _on_exported(self, report) -> None:
        text = f"De-identified {len(report.files)} file(s) to {report.out_dir}"
        if report.skipped:
            text += f"; {len(report.skipped)} refused: {report.warnings[0]}"
        self.status.setText(text)
        if report.refused_for_burned_in:  # ask to confirm or mask, then export just those files again
            from medstation.ui.viewer import deid_dialog

            request = deid_dialog.ask_burned_in_decision(self, report)
            if request is not None:
                self._submit(self._export_job, self._series_uid, report.out_dir, name="export",
                             on_done=self._on_exported, error_title="Export", request=request,
                             paths=list(report.refused_for_burned_in))

    # -- leaving --------------------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        """What closing now would lose, from every side panel that keeps work (empty: nothing)."""
        return [item for panel in self._side_panels for item in getattr(panel, "unsaved_work", lambda: [])()]

    def confirm_close(self) -> bool:
        """Ask before closing when drafts or running work would be lost; True = go ahead."""
        lost = self.unsaved_work()
        if not lost:
            return True
        shown = "\n".join(f"• {item}" for item in lost[:12]) + (f"\n… and {len(lost) - 12} more" if len(lost) > 12 else "")
        answer = QMessageBox.question(
            self, "Close MedStation?",
            f"Closing now loses:\n{shown}\n\nAccept the segments you want to keep first. Close anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # -- dialogs --------------------------------------------------------------------------------
    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.open_paths([folder])

    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files")
        if files:
            self.open_paths(files)
