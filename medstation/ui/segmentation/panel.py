"""``SegmentationPanel``: MedSAM box/point prompts, brush edits, propagation, measurements, accept and export.

The panel gathers gestures from the viewer's axial ``SliceView`` (see the
"Segmentation UI contract" in docs/ARCHITECTURE.md) and shows results. Every
model call runs in the ``segmentation`` lane, every file/database write in the
``io`` lane; the GUI thread only edits 2D masks (brush) and draws overlays.
The logic it drives is Qt-free: ``SegmentationService``, ``VolumeSegmenter``,
``SegmentSet``, ``propagate`` and the exporters.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtWidgets import QFileDialog, QWidget

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.segmentation.measure import measure, report_line
from medstation.segmentation.propagation import mask_box, propagate
from medstation.segmentation.records import SegmentRecord
from medstation.segmentation.segments import SegmentSet
from medstation.segmentation.slices import LatestBox, live_decode, neighbour_order, precompute_embeddings, segment_slice
from medstation.ui.errors import failure_slot, report_failure
from medstation.ui.segmentation.layout import build_controls

log = logging.getLogger(__name__)

TOOLS = {"seg_box": "box", "seg_point": "point", "seg_brush": "brush", "seg_eraser": "brush"}
PRECOMPUTE_RADIUS = 2  # neighbouring slices embedded in the background while the user looks
LIVE_KEY = "seg_live"


def _measure_job(ctx, mask, volume):
    ctx.check()
    return measure(mask, volume)


def _propagate_job(ctx, segmenter, start, start_mask):
    return propagate(ctx, segmenter.predict_mask, segmenter.n_slices, start, start_mask, image=segmenter.slice_image)


def _export_job(ctx, kind, segments, volume, path, db):
    from medstation.segmentation import export

    ctx.report(0.1, f"writing {path}")
    writer = export.export_nifti if kind == "nifti" else export.export_dicom_seg
    written = str(writer(segments, volume, path))
    db.audit("segmentation.export", entity="file", entity_id=written, kind=kind, series_uid=volume.series_uid,
             segments=[s.name for s in segments])
    return written


class SegmentationPanel(QWidget):
    """Side panel of the viewer tab. ``viewer_tab`` must offer the contract's methods and signals."""

    def __init__(self, viewer_tab, service, settings, runner, session) -> None:
        """``service``: SegmentationService; ``settings``: Settings; ``session``: UserSession (the acting user)."""
        super().__init__()
        self.viewer = viewer_tab
        self.view = viewer_tab.axial_view
        self.settings = settings
        self.runner = runner
        self.session = session
        self.service = service
        self.volume = None
        self.segments: SegmentSet | None = None
        self.current_key: int | None = None
        self.segmenter = None
        self.opacity = 0.45
        self.measurements = None
        self.last_prediction = None
        self._prompts: dict[tuple[int, int], dict] = {}  # (segment, slice) -> {"box", "points", "labels"}
        self._decode_handle = None
        self._live_boxes: LatestBox | None = None  # the drag in progress, fed to one live_decode job
        self._propagate_handle = None
        self._precompute_handle = None
        self._measure_token = 0
        self._stroke = 0
        self._last_dab = 0.0
        build_controls(self)
        for name, shape in TOOLS.items():
            self.view.register_tool(name, shape)
        self.view.sig_box_changed.connect(self._on_view_box_changed)
        self.view.sig_box_drawn.connect(self._on_view_box_drawn)
        self.view.sig_point_clicked.connect(self._on_view_point_clicked)
        self.view.sig_brush.connect(self._on_view_brush)
        self.view.sig_tool_changed.connect(self._on_view_tool_changed)
        self.viewer.sig_volume_loaded.connect(self.set_volume)
        self.viewer.sig_slice_changed.connect(self._on_viewer_slice_changed)
        if self.viewer.current_volume() is not None:
            self.set_volume(self.viewer.current_volume())

    # -- engine and volume ----------------------------------------------------------------------
    def ensure_engine(self):
        """Load the model in the segmentation lane (once); returns the job handle or None when loaded/absent."""
        if self.service.engine() is not None:
            self.engine_label.setText(self.service.status.get(self.service.default_engine, "ready"))
            return None
        self.engine_label.setText("Loading the segmentation model…")
        handle = self.runner.submit("segmentation", self.service.ensure_engine, name="load segmentation model",
                                    queue=True)
        handle.sig_done.connect(self._on_engine_loaded)
        handle.sig_failed.connect(failure_slot(self, "Model failed to load", self.engine_label))
        return handle

    def _on_engine_loaded(self, engine) -> None:
        self.engine_label.setText(engine.describe())
        if self.volume is not None:
            self.segmenter = self.service.segmenter(self.volume, self._window())
            self._precompute_neighbours()

    def _window(self):
        return tuple(self.view.window) if getattr(self.view, "window", None) else None

    def set_volume(self, volume) -> None:
        self.volume = volume
        for key in list(self.view.mask_keys()):
            if key.startswith("seg"):
                self.view.set_mask_overlay(key, None)
        self.segments = SegmentSet(volume.series_uid, volume.pixels.shape)
        self.current_key = self.segments.add().key
        self._prompts.clear()
        self.measurements = None
        self.segmenter = None
        self._fill_segments()
        self._show_measurements()
        if self.service.engine() is not None:
            self._on_engine_loaded(self.service.engine())
        else:
            self.ensure_engine()

    def _ready_segmenter(self):
        """The segmenter for the current window (a new window is a new image for the model)."""
        if self.service.engine() is None or self.volume is None:
            return None
        window = self._window()
        if self.segmenter is None or self.segmenter.window != window:
            self.segmenter = self.service.segmenter(self.volume, window)
        return self.segmenter

    def _precompute_neighbours(self) -> None:
        segmenter = self._ready_segmenter()
        if segmenter is None:
            return
        index = self.viewer.current_slice()
        if self._precompute_handle is not None:
            self._precompute_handle.cancel()  # scrolling on: the old neighbourhood no longer matters
        self._precompute_handle = self.runner.submit(
            "segmentation", precompute_embeddings, segmenter,
            [index] + neighbour_order(index, segmenter.n_slices, PRECOMPUTE_RADIUS), name="prepare slices", queue=True,
            requester=self,  # our next prompt replaces it (a new request cancels this requester's jobs)
        )

    # -- tools ----------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.view.set_tool(name)

    def _on_view_tool_changed(self, name: str) -> None:
        button = self.tool_buttons.get(name)
        if button is not None:
            button.setChecked(True)
        else:  # a viewer tool (ruler, ROI): none of ours is active
            self.tool_group.setExclusive(False)
            for b in self.tool_buttons.values():
                b.setChecked(False)
            self.tool_group.setExclusive(True)
        if name in TOOLS and self.service.engine() is None and name != "seg_brush":
            self.ensure_engine()

    def _on_viewer_slice_changed(self, index: int) -> None:
        self._end_live_drag()
        self.view.set_mask_overlay(LIVE_KEY, None)
        self._refresh_overlays()
        self._show_measurements()
        self._precompute_neighbours()

    # -- prompts --------------------------------------------------------------------------------
    def _on_view_box_changed(self, x0, y0, x1, y1) -> None:
        """Live update while dragging: one job decodes the newest box each time the last mask is out."""
        if abs(x1 - x0) < 2 or abs(y1 - y0) < 2:
            return
        if self._live_boxes is None or self._live_boxes.closed:
            segmenter = self._ready_segmenter()
            if segmenter is None:
                return  # the release will say the model is still loading
            self._live_boxes = LatestBox()
            handle = self.runner.submit("segmentation", live_decode, segmenter, self.viewer.current_slice(),
                                        self._live_boxes, name="live box", requester=self)
            handle.sig_partial.connect(self._on_live_mask)
            handle.sig_failed.connect(self._on_decode_failed)
        self._live_boxes.put((x0, y0, x1, y1))

    def _on_live_mask(self, result) -> None:
        index, prediction = result
        if self._live_boxes is not None and not self._live_boxes.closed and index == self.viewer.current_slice():
            self.view.set_mask_overlay(LIVE_KEY, prediction.mask, "#ffff40", self.opacity)

    def _end_live_drag(self) -> None:
        if self._live_boxes is not None:
            self._live_boxes.close()
            self._live_boxes = None

    def _on_view_box_drawn(self, x0, y0, x1, y1) -> None:
        self._end_live_drag()
        index = self.viewer.current_slice()
        self._prompts[(self.current_key, index)] = {"box": (x0, y0, x1, y1), "points": [], "labels": []}
        self._decode((x0, y0, x1, y1), None, None, live=False)

    def _on_view_point_clicked(self, x, y, positive) -> None:
        index = self.viewer.current_slice()
        prompt = self._prompts.setdefault((self.current_key, index), {"box": None, "points": [], "labels": []})
        prompt["points"].append((x, y))
        prompt["labels"].append(1 if positive else 0)
        self._decode(prompt["box"], prompt["points"], prompt["labels"], live=False)

    def _decode(self, box, points, labels, *, live: bool):
        segmenter = self._ready_segmenter()
        if segmenter is None:
            self.status_label.setText("The model is still loading; draw the box again in a moment.")
            self.ensure_engine()
            return None
        index = self.viewer.current_slice()
        handle = self.runner.submit("segmentation", segment_slice, segmenter, index, box=box, points=points,
                                    labels=labels, name="segment slice", requester=self)
        handle.sig_progress.connect(lambda _f, m: self.status_label.setText(m))
        handle.sig_done.connect(lambda result, lv=live: self._on_decoded(result, lv))
        handle.sig_failed.connect(self._on_decode_failed)
        self._decode_handle = handle
        return handle

    def _on_decode_failed(self, message: str, details: str, exc: object) -> None:
        report_failure(self, "Segmentation", message, details, exc, self.status_label)

    def _on_decoded(self, result, live: bool) -> None:
        index, prediction = result
        if index != self.viewer.current_slice() or self.segments is None:
            return
        if live:
            self.view.set_mask_overlay(LIVE_KEY, prediction.mask, "#ffff40", self.opacity)
            return
        self.view.set_mask_overlay(LIVE_KEY, None)
        self.last_prediction = prediction
        seg = self.segments.segments[self.current_key]
        seg.engine, seg.model_version = self.segmenter.engine.name, self.segmenter.engine.model_version
        seg.prompts.append({"slice": index, **prediction.prompt_record(), "score": round(prediction.score, 3)})
        self.segments.set_slice(self.current_key, index, prediction.mask, label="model", from_model=True)
        note = "EMPTY mask: the model found nothing in this box." if prediction.empty else \
            f"Mask on slice {index + 1}: {int(prediction.mask.sum())} px in {prediction.seconds * 1000:.0f} ms (DRAFT)"
        self.status_label.setText(note)
        self._after_edit()

    # -- edits ----------------------------------------------------------------------------------
    def _on_view_brush(self, x, y, radius, erase) -> None:
        if self.segments is None or self.current_key is None:
            return
        now = time.monotonic()
        if now - self._last_dab > 0.4:  # a pause starts a new stroke (one undo step per stroke)
            self._stroke += 1
        self._last_dab = now
        erase = erase or self.view.tool == "seg_eraser"
        if self.segments.brush(self.current_key, self.viewer.current_slice(), x, y, radius, erase, self._stroke):
            self._after_edit()

    def undo(self) -> None:
        if self.segments is not None and self.segments.undo() is not None:
            self._after_edit()

    def redo(self) -> None:
        if self.segments is not None and self.segments.redo() is not None:
            self._after_edit()

    def _after_edit(self) -> None:
        self._refresh_overlays()
        self._refresh_buttons()
        self._fill_segments()
        self._remeasure()

    # -- propagation ----------------------------------------------------------------------------
    def propagate(self):
        segmenter = self._ready_segmenter()
        if segmenter is None or self.segments is None:
            self.status_label.setText("Load a series and the model first.")
            return None
        index = self.viewer.current_slice()
        start = self.segments.segments[self.current_key].mask[index].astype(bool)
        if mask_box(start) is None:
            self.status_label.setText("Draw a mask on this slice first, then propagate from it.")
            return None
        handle = self.runner.submit("segmentation", _propagate_job, segmenter, index, start, name="propagate",
                                    requester=self)
        key = self.current_key
        handle.sig_partial.connect(lambda item, k=key, s=index: self._on_propagated_slice(k, s, item))
        handle.sig_progress.connect(lambda f, m: (self.progress.setValue(int(f * 100)), self.progress.setFormat(m)))
        handle.sig_done.connect(lambda masks: self.status_label.setText(
            f"Propagated over {len(masks)} slices ({min(masks) + 1}–{max(masks) + 1}); review each slice (DRAFT)."))
        handle.sig_cancelled.connect(lambda: self.status_label.setText("Propagation stopped; slices so far are kept."))
        handle.sig_failed.connect(failure_slot(self, "Propagation", self.status_label))
        handle.sig_finished.connect(self._on_propagation_finished)
        self._propagate_handle = handle
        self.progress.setValue(0)
        self.progress.show()
        self.stop_button.setEnabled(True)
        self.propagate_button.setEnabled(False)
        return handle

    def _on_propagated_slice(self, key: int, start: int, item) -> None:
        index, mask = item
        if self.segments is None or key not in self.segments.segments or index == start:
            return
        self.segments.set_slice(key, index, mask, label="propagate", from_model=True)
        self.segments.segments[key].prompts.append({"slice": int(index), "propagated_from": int(start)})
        if index == self.viewer.current_slice():
            self._refresh_overlays()

    def _on_propagation_finished(self) -> None:
        self.progress.hide()
        self.stop_button.setEnabled(False)
        self.propagate_button.setEnabled(True)
        self._after_edit()

    def stop_propagation(self) -> None:
        if self._propagate_handle is not None:
            self._propagate_handle.cancel()

    # -- segments -------------------------------------------------------------------------------
    def add_segment(self) -> None:
        if self.segments is not None:
            self.current_key = self.segments.add().key
            self._after_edit()

    def remove_segment(self) -> None:
        if self.segments is None or self.current_key is None:
            return
        self.view.set_mask_overlay(f"seg{self.current_key}", None)
        self.segments.remove(self.current_key)
        if not self.segments.segments:
            self.segments.add()
        self.current_key = next(iter(self.segments.segments))
        self._after_edit()

    def _on_segment_selected(self) -> None:
        key = self.segment_list.current_key()
        if key is not None and key != self.current_key:
            self.current_key = key
            self._refresh_buttons()
            self._remeasure()

    def _on_segment_renamed(self, key: int, name: str) -> None:
        try:
            self.segments.rename(key, name)
        except ValueError as exc:
            self.status_label.setText(str(exc))
        self._fill_segments()
        self._show_measurements()

    def _fill_segments(self) -> None:
        if self.segments is not None:
            self.segment_list.fill(self.segments.segments.values(), self.current_key)

    def _on_opacity_changed(self, value: int) -> None:
        self.opacity = value / 100.0
        self._refresh_overlays()

    def _refresh_overlays(self) -> None:
        if self.segments is None:
            return
        index = self.viewer.current_slice()
        for seg in self.segments.segments.values():
            mask = seg.mask[index]
            self.view.set_mask_overlay(f"seg{seg.key}", mask if mask.any() else None, seg.color, self.opacity)

    def _refresh_buttons(self) -> None:
        history = self.segments.history if self.segments is not None else None
        self.undo_button.setEnabled(bool(history and history.can_undo))
        self.redo_button.setEnabled(bool(history and history.can_redo))

    # -- measurements ---------------------------------------------------------------------------
    def _remeasure(self) -> None:
        if self.segments is None or self.current_key is None:
            return
        self._measure_token += 1
        token = self._measure_token
        mask = self.segments.segments[self.current_key].mask.copy()  # the job must not see later edits
        handle = self.runner.submit("background", _measure_job, mask, self.volume, name="measure", queue=True)
        handle.sig_done.connect(lambda m, t=token: self._on_measured(t, m))

    def _on_measured(self, token: int, m) -> None:
        if token == self._measure_token:
            self.measurements = m
            self._show_measurements()

    def _show_measurements(self) -> None:
        seg = self.segments.segments.get(self.current_key) if self.segments else None
        self.table.show_measurements(self.measurements, self.viewer.current_slice())
        if seg is None:
            self.report_label.setText("")
            return
        state = seg.status.upper()
        self.report_label.setText(f"[{state}] {report_line(seg.name, self.measurements)}")

    # -- decide and export ----------------------------------------------------------------------
    def current_record(self) -> SegmentRecord:
        seg = self.segments.segments[self.current_key]
        return SegmentRecord(
            series_uid=self.segments.series_uid, name=seg.name, color=seg.color, mask=seg.mask.copy(),
            ai_mask=seg.ai_mask.copy(), engine=seg.engine,
            model_version_id=self.service.model_version_id(seg.engine or None),
            prompts=list(seg.prompts), stored_id=seg.stored_id,
        )

    def decide(self, decision: str):
        if self.segments is None or self.current_key is None:
            return None
        seg = self.segments.segments[self.current_key]
        try:
            actor = self.session.require(Permission.edit_imaging).name
        except UserFacingError as exc:
            self.status_label.setText(str(exc))
            return None
        handle = self.runner.submit("io", self.service.decide, self.current_record(), self.volume, decision, actor,
                                    name=f"segmentation {decision}", queue=True)
        handle.sig_done.connect(lambda result, s=seg: self._on_decided(s, result))
        handle.sig_failed.connect(failure_slot(self, "Save segmentation", self.status_label))
        return handle

    def _on_decided(self, seg, result: dict) -> None:
        seg.stored_id = result["id"]
        seg.status = result["decision"]
        self.status_label.setText(f"{seg.name}: {result['decision']} and saved (#{result['id']}).")
        self._fill_segments()
        self._show_measurements()

    def export_segments(self, kind: str, path: str):
        """Export every non-empty segment (``kind`` = "nifti" or "dicom_seg") to ``path`` in the io lane."""
        from medstation.segmentation.export import ExportSegment

        items = [
            ExportSegment(i + 1, seg.name, seg.mask.copy(), seg.engine or "manual", seg.model_version)
            for i, seg in enumerate(s for s in self.segments.segments.values() if s.mask.any())
        ]
        if not items:
            self.status_label.setText("Nothing to export: every segment is empty.")
            return None
        handle = self.runner.submit("io", _export_job, kind, items, self.volume, path, self.service.db,
                                    name=f"export {kind}", queue=True)
        handle.sig_done.connect(lambda p: self.status_label.setText(f"Exported to {p}"))
        handle.sig_failed.connect(failure_slot(self, "Export", self.status_label))
        return handle

    def _ask_export(self, kind: str) -> None:
        if self.segments is None:
            return
        suffix = "NIfTI (*.nii.gz)" if kind == "nifti" else "DICOM (*.dcm)"
        default = self.settings.exports_dir / ("segments.nii.gz" if kind == "nifti" else "segments_seg.dcm")
        path, _ = QFileDialog.getSaveFileName(self, "Export segments", str(default), suffix)
        if path:
            self.export_segments(kind, path)
