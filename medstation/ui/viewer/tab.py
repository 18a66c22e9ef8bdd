"""The Viewer tab: series browser, slice views (single or MPR), measurement, tags and export.

Every file or database access runs as a job in the ``io`` lane; the GUI thread
only shows results. Segmentation plugs in through ``add_side_panel`` and the
``axial_view`` signals (see docs/ARCHITECTURE.md, "Segmentation UI contract").
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from medstation.access.roles import Permission
from medstation.imaging.windowing import auto_window, full_range_window, presets_for
from medstation.ui.errors import failure_slot, show_error
from medstation.ui.viewer.browser import SeriesBrowser
from medstation.ui.viewer.overlay import overlay_corners
from medstation.ui.viewer.slice_view import SliceView
from medstation.ui.viewer.tag_browser import TagBrowser
from medstation.ui.viewer.toolbar import ViewerToolbar

log = logging.getLogger(__name__)
CINE_FPS = 15


def save_image_job(ctx, image, path: str) -> str:
    """Job: write a QImage (thread-safe, unlike QPixmap) to ``path`` as PNG."""
    ctx.check()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)


class ViewerTab(QWidget):
    """DICOM viewer. ``start(open_path)`` is called by the main window once it is shown."""

    sig_volume_loaded = Signal(object)  # Volume
    sig_slice_changed = Signal(int)  # axial slice index
    sig_catalog_changed = Signal()

    def __init__(self, imaging, segmentation, settings, runner, session) -> None:
        """``imaging``: ImagingService; ``segmentation``: SegmentationService for the side panel (None: no panel);
        ``settings``: Settings; ``runner``: JobRunner; ``session``: UserSession (the acting user)."""
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.session = session
        self.imaging = imaging
        self.segmentation = segmentation
        self._volume = None
        self._series_uid = ""
        self._crosshair = None  # voxel (z, y, x)
        self._load_handle = None
        self._side_panels = []

        self.toolbar = ViewerToolbar(self)
        self.browser = SeriesBrowser()
        self.tag_browser = TagBrowser()
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.browser, "Series")
        self.left_tabs.addTab(self.tag_browser, "Tags")

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
        self._mount_segmentation()

    # -- wiring ---------------------------------------------------------------------------------
    def _connect(self) -> None:
        tb = self.toolbar
        tb.open_folder.triggered.connect(self._on_open_folder)
        tb.open_files.triggered.connect(self._on_open_files)
        tb.presets.activated.connect(lambda _i: self.apply_preset(tb.presets.currentText()))
        tb.tool_group.triggered.connect(lambda action: self.set_tool(action.data()))
        tb.mpr.toggled.connect(self.set_mpr)
        tb.cine.toggled.connect(self.set_cine)
        tb.overlay.toggled.connect(self.set_overlay_visible)
        tb.time_point.valueChanged.connect(lambda v: self.open_series(self._series_uid, time_point=v - 1))
        tb.screenshot.triggered.connect(lambda: self.export_screenshot())
        tb.export.triggered.connect(lambda: self.export_deidentified())
        self.browser.sig_series_activated.connect(self.open_series)
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
        self.axial_view.sig_slice_changed.connect(self._on_axial_slice_changed)
        self.axial_view.sig_tool_changed.connect(self._on_axial_tool_changed)

    def _mount_segmentation(self) -> None:
        if self.segmentation is None:
            return
        try:
            from medstation.ui.segmentation.panel import SegmentationPanel
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("medstation.ui.segmentation"):
                return
            raise
        self.add_side_panel(SegmentationPanel(self, self.segmentation, self.settings, self.runner, self.session),
                            "Segmentation")

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

        The job waits until the slots are connected: a signal emitted by a job that finished before
        ``connect`` ran (a fast header read) would otherwise be lost.
        """
        ready = threading.Event()

        def gated(ctx, *a, **kw):
            ready.wait(10.0)
            return fn(ctx, *a, **kw)

        handle = self.runner.submit("io", gated, *args, name=name, queue=True, **kwargs)
        try:
            handle.sig_done.connect(on_done)
            handle.sig_failed.connect(failure_slot(self, error_title, self.status))
            handle.sig_progress.connect(lambda f, m: self.status.setText(f"{m} ({f:.0%})"))
            if on_partial is not None:
                handle.sig_partial.connect(on_partial)
        finally:
            ready.set()
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
        note = f"; {len(report.problems)} file(s) skipped" if report.problems else ""
        self.status.setText(report.summary() + note)
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
        for view in self.views.values():
            view.set_volume(volume, window=window)
        self._crosshair = tuple(float(n // 2) for n in volume.shape)
        self.set_crosshair(self._crosshair)
        self.toolbar.show_time_points(int(volume.meta.get("n_time_points", 1)))
        skipped = volume.meta.get("skipped", [])
        notes = list(volume.meta.get("notes", []))
        if skipped:
            notes.append(f"{len(skipped)} file(s) skipped")
            self.status.setToolTip("\n".join(f"{p}: {r}" for p, r in skipped[:50]))
        self.status.setText(f"Loaded {volume.shape[0]} slices {volume.shape[1]}×{volume.shape[2]}" + (" — " + "; ".join(notes) if notes else ""))
        self._update_overlay()
        self._on_axial_slice_changed(self.axial_view.index)
        self._tags_timer.start()
        self.sig_volume_loaded.emit(volume)

    def _fill_presets(self, modality: str) -> None:
        combo = self.toolbar.presets
        combo.clear()
        combo.addItem("Default")
        combo.addItems(list(presets_for(modality)))

    def apply_preset(self, name: str) -> None:
        vol = self._volume
        if vol is None:
            return
        presets = presets_for(vol.modality)
        if name == "Default":
            window = vol.window or auto_window(vol.pixels)
        elif name == "Full range":
            window = full_range_window(vol.pixels)
        elif presets.get(name) is None:
            window = auto_window(vol.pixels)
        else:
            window = presets[name]
        combo = self.toolbar.presets
        if combo.currentText() != name and combo.findText(name) >= 0:
            combo.setCurrentIndex(combo.findText(name))
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
        if m["kind"] == "ruler":
            self.measure_label.setText(f"Ruler ({m['plane']}, slice {m['slice'] + 1}): {m['mm']:.2f} mm")
        else:
            unit = "HU" if self._volume is not None and self._volume.modality == "CT" else ""
            self.measure_label.setText(f"ROI ({m['plane']}, slice {m['slice'] + 1}): {m['stats'].text(unit)}")

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

    # -- dialogs --------------------------------------------------------------------------------
    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.open_paths([folder])

    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files")
        if files:
            self.open_paths(files)
