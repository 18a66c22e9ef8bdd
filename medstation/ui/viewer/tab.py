"""The Viewer tab: series browser, slice views (single or MPR), measurement, tags and export.

Every file or database access runs as a job in the ``io`` lane; the GUI thread
only shows results. Segmentation plugs in through ``add_side_panel`` and the
``axial_view`` signals (see docs/ARCHITECTURE.md, "Segmentation UI contract");
the main window mounts the panel, the tab only hosts it.

This module holds construction, wiring, the segmentation contract, opening and loading series, tags and
closing; the rest lives in the same package: ``layout`` (the widgets), ``view_controls`` (windowing,
navigation, MPR, tools, cine, overlay), ``measurement_handling`` (measurements kept as annotations) and
``export_actions`` (screenshot, de-identified export).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from medstation.imaging.annotations import Annotation
from medstation.imaging.completeness import unopened_siblings
from medstation.imaging.preview import problems_summary, series_preview_job
from medstation.imaging.windowing import auto_window
from medstation.ui.errors import failure_slot, show_error
from medstation.ui.viewer.browser import SERIES_INFO_ROLE, SERIES_UID_ROLE
from medstation.ui.viewer.export_actions import ExportActions, save_image_job
from medstation.ui.viewer.layout import build_viewer_layout
from medstation.ui.viewer.measurement_handling import MeasurementHandling
from medstation.ui.viewer.view_controls import ViewControls

log = logging.getLogger(__name__)
CINE_FPS = 15
# save_image_job lives with the export actions; imported above so it stays importable from here.


def unopened_files_job(ctx, imaging, series_uid: str, loaded_paths) -> list[str]:
    """Job (io lane): files of the series beside the opened ones that were neither loaded nor indexed with it.

    The series' indexed files count as opened: a 4D series shows one time point at a time, and the
    other time points' files were opened with it (the time-point box shows them), not left out.
    """
    ctx.check()
    opened = set(loaded_paths) | set(imaging.series_files(series_uid))
    return unopened_siblings(series_uid, sorted(opened))



class ViewerTab(ViewControls, MeasurementHandling, ExportActions, QWidget):
    """DICOM viewer. ``start(open_path)`` is called by the main window once it is shown.

    ``imaging``: the ImagingService; ``settings``: where exports go and whether to open the sample study;
    ``db``: where measurements are kept (None: they last for the session only); ``session``: who draws them.
    """

    sig_volume_loaded = Signal(object)  # Volume
    sig_preview_shown = Signal(str)  # series UID: one of its slices is on screen while the rest still loads
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
        self._preview_handle = None

        build_viewer_layout(self)

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
        tb.time_point.valueChanged.connect(self._on_time_point_chosen)
        tb.addAction("PACS…").triggered.connect(self._on_pacs)
        tb.screenshot.triggered.connect(lambda: self.export_screenshot())
        tb.export.triggered.connect(lambda: self.export_deidentified())
        self.browser.sig_series_activated.connect(self.open_series)
        self.browser.sig_remote_activated.connect(self._on_remote_study)
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
        self._preset_for_next_volume = None  # a choice made during an earlier load was for that series
        self._series_uid = series_uid
        self.browser.select_series(series_uid)
        self.status.setText("Loading series…")
        if self._volume is None:  # an earlier series' preview slice must not stand in for this one
            self.axial_view.clear_preview()
            self.slice_label.setText("Loading…")
        self._load_handle = self._submit(
            self.imaging.load_series_job, series_uid, time_point=time_point, name="load series",
            on_done=self._on_volume_loaded, on_partial=lambda obj, uid=series_uid: self._on_load_partial(obj, uid),
            error_title="Load series",
        )

    def _on_time_point_chosen(self, value: int) -> None:
        """The time-point box belongs to the series on screen, also while another one is still loading."""
        uid = self._volume.series_uid if self._volume is not None else self._series_uid
        self.open_series(uid, time_point=value - 1)

    def _on_browser_clicked(self, item, _column: int = 0) -> None:
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

    def _on_load_partial(self, obj, series_uid: str = "") -> None:
        """A preview slice streamed by the load job of ``series_uid`` (a cancelled job's partials never arrive:
        the runner disconnects them), shown while no volume is on screen yet."""
        if isinstance(obj, dict) and obj.get("kind") == "preview" and self._volume is None:
            self.axial_view.show_preview(obj["image"], obj.get("spacing_rc", (1.0, 1.0)))
            if obj["index"] is None:
                self.slice_label.setText("Loading… (first image read)")
            else:
                self.slice_label.setText(f"Loading… (slice {obj['index'] + 1}/{obj['n_slices']})")
            self.sig_preview_shown.emit(series_uid)

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
        self._apply_preset_picked_during_load()
        self.readout.setText("")
        self.measure_label.setText("")
        self.toolbar.show_time_points(int(volume.meta.get("n_time_points", 1)), int(volume.meta.get("time_point") or 0))
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
            self._submit(unopened_files_job, self.imaging, volume.series_uid, list(volume.source_paths), name="check series",
                         on_done=lambda found, uid=volume.series_uid: self._on_siblings_checked(uid, found))
        self.sig_volume_loaded.emit(volume)
        QTimer.singleShot(0, self.fit_views)  # once the layout has settled, frame the whole image

    def _on_siblings_checked(self, series_uid: str, found) -> None:
        if not found or self._volume is None or self._volume.series_uid != series_uid:
            return
        folder = Path(found[0]).parent
        self.status.setText(self.status.text() + f" — WARNING: series opened incomplete: {len(found)} more file(s) "
                            f"of it in {folder.name}/ were not opened (Open folder loads them all)")

    # -- tags -----------------------------------------------------------------------------------
    def _refresh_tags(self) -> None:
        if self._volume is None or self.left_tabs.currentWidget() is not self.tag_browser:
            return
        path = self._volume.source_paths[self.axial_view.index]
        if path != self.tag_browser.path:
            self._submit(self.imaging.tags_job, path, name="tags", on_done=lambda r: self.tag_browser.show_tags(*r))

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
    def _on_pacs(self) -> None:
        """Open the PACS dialog; a retrieved study appears in the browser and its largest series opens."""
        from medstation.ui.viewer.pacs_dialog import open_pacs_dialog  # lazy: pynetdicom, dicomweb-client

        open_pacs_dialog(self)

    def _on_remote_study(self, node, hit) -> None:
        """Retrieve a remote study picked in the browser (background lane); it then shows as local and opens."""
        from medstation.ui.viewer.pacs_dialog import retrieve_from_browser  # lazy: pynetdicom, dicomweb-client

        self._remote_handle = retrieve_from_browser(self, node, hit)

    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.open_paths([folder])

    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files")
        if files:
            self.open_paths(files)
