"""``SegmentationPanel``: MedSAM box/point prompts, brush edits, propagation, measurements, accept and export.

The panel gathers gestures from the viewer's axial ``SliceView`` (see the
"Segmentation UI contract" in docs/ARCHITECTURE.md) and shows results. Every
model call runs in the ``segmentation`` lane, every file/database write in the
``io`` lane, measurements in the ``measure`` lane (debounced; the newest request
wins). The GUI thread only paints the brush's footprint on one slice and draws
overlays. Segments belong to their series (:class:`SeriesSegments`): switching
series keeps every draft, and accepted segments reload from the store when a
series is opened. The logic it drives is Qt-free: ``SegmentationService``,
``VolumeSegmenter``, ``SegmentSet``, ``propagate``, ``mask_flags``.
"""

from __future__ import annotations

import itertools
import logging
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from medstation.segmentation.plausibility import mask_flags
from medstation.segmentation.propagation import mask_box, propagate
from medstation.segmentation.records import prompt_entry, propagation_entry
from medstation.segmentation.segments import SegmentSet, SegmentStatus, SeriesSegments
from medstation.segmentation.slices import LatestBox, live_decode, neighbour_order, precompute_embeddings, segment_slice
from medstation.ui.errors import failure_slot, report_failure
from medstation.ui.segmentation.blind_choice import SegmentationCandidateHooks
from medstation.ui.segmentation.decisions import MeasureAndDecide
from medstation.ui.segmentation.layout import build_controls

log = logging.getLogger(__name__)

TOOLS = {"seg_box": "box", "seg_point": "point", "seg_brush": "brush", "seg_eraser": "brush"}
PRECOMPUTE_RADIUS = 2  # neighbouring slices embedded in the background while the user looks
LIVE_KEY = "seg_live"
POINTS_KEY = "seg_points"
MEASURE_DELAY_MS = 250  # measurements wait for a pause in editing (a stroke sends ~60 moves/s)
STROKE_PAUSE_S = 0.4  # a longer pause between dabs starts a new stroke (one undo step per stroke)
MIN_BOX_PX = 2.0


def _propagate_job(ctx, segmenter, start, start_mask):
    return propagate(ctx, segmenter.predict_mask, segmenter.n_slices, start, start_mask, image=segmenter.slice_image)


class SegmentationPanel(MeasureAndDecide, QWidget):
    """Side panel of the viewer tab. ``viewer_tab`` must offer the contract's methods and signals.

    ``service``: the SegmentationService; ``session``: the UserSession whose actor decides and exports
    (None: actions are recorded without a name); ``exports_dir``: where the export dialog starts.
    """

    def __init__(self, viewer_tab, service, runner, *, session=None, exports_dir=None, load_engine: bool = True,
                 shadow=None) -> None:
        super().__init__()
        self.viewer = viewer_tab
        self.view = viewer_tab.axial_view
        self.service = service
        self.runner = runner
        self.session = session
        self.exports_dir = exports_dir
        self._load_engine = load_engine
        self.candidates = SegmentationCandidateHooks(self, shadow)  # blind choice and shadow runs (training.shadow)
        self.workspace = SeriesSegments()
        self.volume = None
        self.segments: SegmentSet | None = None
        self.current_key: int | None = None
        self.segmenter = None
        self.opacity = 0.45
        self.measurements = None
        self.last_prediction = None
        self._prompts: dict[tuple[str, int, int], dict] = {}  # (series, segment, slice) -> {"box", "points", "labels"}
        self._decode_handle = None
        self._live_boxes: LatestBox | None = None  # the drag in progress, fed to one live_decode job
        self._propagate_handle = None
        self._propagate_ids = itertools.count(1)
        self._precompute_handle = None
        self._measure_handle = None
        self._stroke = 0
        self._last_dab = 0.0
        self._last_xy: tuple[float, float] | None = None
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)
        self._measure_timer.setInterval(MEASURE_DELAY_MS)
        self._measure_timer.timeout.connect(self._start_measure)
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
        if self.service is None or not self._load_engine:
            self.engine_label.setText("Segmentation model not loaded.")
            return None
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

    def _usable(self) -> bool:
        """True when the shown volume and the segment set agree (not mid-switch between series)."""
        return (self.segments is not None and self.volume is not None
                and self.segments.shape == tuple(self.volume.pixels.shape)
                and self.viewer.current_slice() < self.segments.shape[0])

    def set_volume(self, volume) -> None:
        """Show ``volume``'s segments: its drafts from this session, else its accepted ones from the store."""
        self._end_live_drag()
        for key in list(self.view.mask_keys()):
            if key.startswith("seg"):
                self.view.set_mask_overlay(key, None)
        self.volume = volume
        self.segmenter = None
        self._cancel_measure()
        try:
            self.segments, made = self.workspace.get_or_create(volume.series_uid, volume.pixels.shape)
        except ValueError as exc:  # same series, other files: keep the old drafts, draw on a fresh set
            self.segments, made = SegmentSet(volume.series_uid, volume.pixels.shape), True
            self.status_label.setText(f"Earlier segments kept aside: {exc}.")
        if made:
            self.current_key = self.segments.add().key
            self._load_saved(self.segments)
        else:
            self.current_key = next(iter(self.segments.segments), None)
            drawn = [s for s in self.segments.segments.values() if s.mask.any()]
            n = len(self.segments.unsaved())
            self.status_label.setText(f"Back on this series: {len(drawn)} segment(s) kept"
                                      + (f", {n} unsaved draft(s)." if n else ".") if drawn else "")
        self._after_structure_change()
        if self.service is not None and self.service.engine() is not None:
            self._on_engine_loaded(self.service.engine())
        else:
            self.ensure_engine()

    def _load_saved(self, segs: SegmentSet) -> None:
        if self.service is None:
            return
        handle = self.runner.submit("io", self.service.saved_segments, segs.series_uid, name="load segments",
                                    queue=True)
        handle.sig_done.connect(lambda stored, s=segs: self._on_saved_loaded(s, stored))
        handle.sig_failed.connect(failure_slot(self, "Saved segments could not be read", self.status_label))

    def _on_saved_loaded(self, segs: SegmentSet, stored) -> None:
        known = segs.stored_ids()
        fresh = [st for st in stored if st.id not in known]
        if not fresh:
            return
        blank = [k for k, s in segs.segments.items() if not s.mask.any() and s.stored_id is None]
        added, skipped = [], []
        for st in fresh:
            try:
                added.append(segs.add_stored(st).key)
            except ValueError:
                skipped.append(st.name)
        if added:
            for key in blank:  # the empty default segment made while the store was read
                segs.segments.pop(key, None)
        if segs is self.segments:
            if self.current_key not in segs.segments:
                self.current_key = next(iter(segs.segments), None)
            note = f"Reloaded {len(added)} accepted segment(s) of this series."
            if skipped:
                note += f" Not shown (drawn on a different set of slices): {', '.join(skipped)}."
            self.status_label.setText(note)
            self._after_structure_change()

    def _ready_segmenter(self):
        """The segmenter for the current window (a new window is a new image for the model)."""
        if self.service is None or self.service.engine() is None or self.volume is None:
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

    def set_brush_radius(self, radius_px: float) -> None:
        self.view.brush_radius_px = float(radius_px)
        if self.brush_size.value() != int(radius_px):
            self.brush_size.setValue(int(radius_px))

    def _on_view_tool_changed(self, name: str) -> None:
        button = self.tool_buttons.get(name)
        if button is not None:
            button.setChecked(True)
        else:  # a viewer tool (ruler, ROI): none of ours is active
            self.tool_group.setExclusive(False)
            for b in self.tool_buttons.values():
                b.setChecked(False)
            self.tool_group.setExclusive(True)
        if name in TOOLS and self.service is not None and self.service.engine() is None and name != "seg_brush":
            self.ensure_engine()

    def _on_viewer_slice_changed(self, index: int) -> None:
        self._end_live_drag()
        self._last_xy = None
        self.view.set_mask_overlay(LIVE_KEY, None)
        if not self._usable():
            return
        self._refresh_overlays()
        self._show_measurements()
        self._precompute_neighbours()

    # -- prompts --------------------------------------------------------------------------------
    def _prompt_key(self, index: int) -> tuple[str, int, int]:
        return (self.segments.series_uid, self.current_key, index)

    def _on_view_box_changed(self, x0, y0, x1, y1) -> None:
        """Live update while dragging: one job decodes the newest box each time the last mask is out."""
        if abs(x1 - x0) < MIN_BOX_PX or abs(y1 - y0) < MIN_BOX_PX or not self._usable():
            return
        if self._live_boxes is None or self._live_boxes.closed:
            segmenter = self._ready_segmenter()
            if segmenter is None:
                return  # the release will say the model is still loading
            self._live_boxes = LatestBox()
            handle = self.runner.submit("segmentation", live_decode, segmenter, self.viewer.current_slice(),
                                        self._live_boxes, name="live box", requester=self)
            handle.sig_partial.connect(lambda result, s=self.segments: self._on_live_mask(s, result))
            handle.sig_failed.connect(self._on_decode_failed)
        self._live_boxes.put((x0, y0, x1, y1))

    def _on_live_mask(self, segs, result) -> None:
        index, prediction = result
        if (self._live_boxes is not None and not self._live_boxes.closed and segs is self.segments
                and index == self.viewer.current_slice()):
            self.view.set_mask_overlay(LIVE_KEY, prediction.mask, "#ffff40", self.opacity)

    def _end_live_drag(self) -> None:
        if self._live_boxes is not None:
            self._live_boxes.close()
            self._live_boxes = None

    def _on_view_box_drawn(self, x0, y0, x1, y1) -> None:
        self._end_live_drag()
        self.view.set_mask_overlay(LIVE_KEY, None)
        if not self._usable():
            return
        w, h = abs(x1 - x0), abs(y1 - y0)
        if w < MIN_BOX_PX or h < MIN_BOX_PX:
            self.status_label.setText(
                f"That box is {w:.0f}×{h:.0f} px: nothing to segment. Drag a box around the structure "
                f"(at least {MIN_BOX_PX:.0f} px each way), or use Points to click on it.")
            return
        index = self.viewer.current_slice()
        old = self._prompts.get(self._prompt_key(index))
        kept = old if old is not None and old["box"] is None else {"points": [], "labels": []}  # points waiting for a box
        prompt = {"box": (x0, y0, x1, y1), "points": list(kept["points"]), "labels": list(kept["labels"])}
        self._prompts[self._prompt_key(index)] = prompt
        self._show_points(index)
        self._decode(prompt["box"], prompt["points"] or None, prompt["labels"] or None)

    def _on_view_point_clicked(self, x, y, positive) -> None:
        if not self._usable():
            return
        index = self.viewer.current_slice()
        prompt = self._prompts.setdefault(self._prompt_key(index), {"box": None, "points": [], "labels": []})
        prompt["points"].append((float(x), float(y)))
        prompt["labels"].append(1 if positive else 0)
        self._show_points(index)
        if prompt["box"] is None:
            engine = self.service.engine() if self.service is not None else None
            if not any(prompt["labels"]):
                self.status_label.setText("Exclude points alone say only where the structure is not: "
                                          "left-click inside it (or draw a box) first.")
                return
            if engine is not None and not engine.spec.points_alone:
                self.status_label.setText(
                    f"{engine.spec.display_name} segments from a box; points refine a box's mask. Draw a box around "
                    "the structure: your points are kept and used with it.")
                return
        self._decode(prompt["box"], prompt["points"], prompt["labels"])

    def _show_points(self, index: int) -> None:
        prompt = self._prompts.get(self._prompt_key(index)) if self.segments is not None else None
        points = prompt["points"] if prompt else []
        labels = prompt["labels"] if prompt else []
        self.view.set_point_markers(points, labels)

    def _decode(self, box, points, labels):
        segmenter = self._ready_segmenter()
        if segmenter is None:
            self.status_label.setText("The model is still loading; draw the box again in a moment.")
            self.ensure_engine()
            return None
        index = self.viewer.current_slice()
        blind = self.candidates.decode(segmenter, index, box) if box is not None and not points else None
        if blind is not None:
            self._decode_handle = blind
            return blind
        handle = self.runner.submit("segmentation", segment_slice, segmenter, index, box=box, points=points,
                                    labels=labels, name="segment slice", requester=self)
        segs, key = self.segments, self.current_key
        handle.sig_done.connect(lambda result, sg=segmenter: self.candidates.after_decode(sg, result))
        handle.sig_progress.connect(lambda _f, m: self.status_label.setText(m))
        handle.sig_done.connect(lambda result, s=segs, k=key: self._on_decoded(s, k, result))
        handle.sig_failed.connect(lambda m, tb, exc, s=segs, k=key, i=index, b=box: self._on_prompt_failed(s, k, i, b, m, tb, exc))
        self._decode_handle = handle
        return handle

    def _on_prompt_failed(self, segs, key, index, box, message, details, exc=None) -> None:
        prompt = self._prompts.get((segs.series_uid, key, index))
        if box is not None and prompt is not None and prompt.get("box") == box:
            prompt["box"] = None  # a refused box must not poison the points clicked next
            message += " The box was dropped; click points on the structure or draw another box."
        self._on_decode_failed(message, details, exc)

    def _on_decode_failed(self, message: str, details: str, exc: object = None) -> None:
        """A refused prompt (a UserFacingError) is explained on the status line; a bug gets a dialog."""
        report_failure(self, "", message, details, exc, self.status_label)

    def _on_decoded(self, segs: SegmentSet, key: int, result) -> None:
        index, prediction = result
        if key not in segs.segments:
            return  # the segment was removed while the model ran
        self.last_prediction = prediction
        seg = segs.segments[key]
        engine = self.segmenter.engine if self.segmenter is not None else None
        if engine is not None:
            seg.engine, seg.model_version = engine.name, engine.model_version
        seg.prompts.append(prompt_entry(index, prediction))
        volume = self.volume if segs is self.segments else None
        seg.flags = mask_flags(prediction.mask, prediction.box,
                               volume.pixels[index] if volume is not None else None,
                               volume.modality if volume is not None else "")
        segs.set_slice(key, index, prediction.mask, label="model", from_model=True)
        if segs is not self.segments:
            return
        if prediction.empty:
            note = "EMPTY mask: the model found nothing here."
        elif seg.flags:
            note = f"FLAGGED mask on slice {index + 1}: {'; '.join(seg.flags)}. Check it, redraw or erase it (DRAFT)."
        else:
            note = f"Mask on slice {index + 1}: {int(prediction.mask.sum())} px in {prediction.seconds * 1000:.0f} ms (DRAFT)"
        self.status_label.setText(note)
        self._after_structure_change()

    # -- edits ----------------------------------------------------------------------------------
    def _on_view_brush(self, x, y, radius, erase) -> None:
        """One mouse move of the brush: paints the segment from the previous dab to here on this slice only."""
        if not self._usable() or self.current_key not in self.segments.segments:
            return
        now = time.monotonic()
        if now - self._last_dab > STROKE_PAUSE_S:
            self._stroke += 1
            self._last_xy = None
        self._last_dab = now
        erase = erase or self.view.tool == "seg_eraser"
        index = self.viewer.current_slice()
        seg = self.segments.segments[self.current_key]
        was = seg.status
        if self.segments.brush(self.current_key, index, x, y, radius, erase, self._stroke, from_xy=self._last_xy):
            self.view.set_mask_overlay(f"seg{seg.key}", seg.mask[index], seg.color, self.opacity)
            self._refresh_buttons()
            if was != seg.status:
                self._fill_segments()  # accepted -> draft: the list must say so
                self._show_measurements()
            self._measure_timer.start()
        self._last_xy = (float(x), float(y))

    def undo(self) -> None:
        if self.segments is not None:
            self._after_history(self.segments.undo(), "Undid")

    def redo(self) -> None:
        if self.segments is not None:
            self._after_history(self.segments.redo(), "Redid")

    def _after_history(self, step, verb: str) -> None:
        if step is None:
            self.status_label.setText("Nothing to undo." if verb == "Undid" else "Nothing to redo.")
            return
        seg = self.segments.segments.get(step.segment)
        if step.kind == "removal":
            if seg is not None:
                self.current_key = seg.key
                seg.status = SegmentStatus.draft if seg.stored_id is None else seg.status
            elif self.current_key not in self.segments.segments:
                self.current_key = next(iter(self.segments.segments), None)
            text = f"{verb} removing {'segment' if seg is None else repr(seg.name)}."
        else:
            where = f"slice {step.slices[0] + 1}" if len(step.slices) == 1 else f"{len(step.slices)} slices"
            state = ""
            if seg is not None:
                state = f" {seg.name} is now a DRAFT (not saved)" + ("; its mask is empty." if not seg.mask.any() else ".")
            text = f"{verb} {step.label} on {where}.{state}"
        if not self.segments.segments:
            self.current_key = self.segments.add().key
        self.status_label.setText(text)
        self._after_structure_change()

    def _after_structure_change(self) -> None:
        """Segments were added, removed, decided or reloaded: redraw everything once."""
        self._refresh_overlays()
        self._refresh_buttons()
        self._fill_segments()
        self._show_points(self.viewer.current_slice()) if self._usable() else self.view.set_point_markers([], [])
        self._measure_timer.start()
        self._show_measurements()

    # -- propagation ----------------------------------------------------------------------------
    def propagate(self):
        segmenter = self._ready_segmenter()
        if segmenter is None or not self._usable():
            self.status_label.setText("Load a series and the model first.")
            return None
        index = self.viewer.current_slice()
        start = self.segments.segments[self.current_key].mask[index].astype(bool)
        if mask_box(start) is None:
            self.status_label.setText("Draw a mask on this slice first, then propagate from it.")
            return None
        handle = self.runner.submit("segmentation", _propagate_job, segmenter, index, start, name="propagate",
                                    requester=self)
        segs, key, group = self.segments, self.current_key, f"propagate-{next(self._propagate_ids)}"
        handle.sig_partial.connect(lambda item, s=segs, k=key, i=index, g=group: self._on_propagated_slice(s, k, i, g, item))
        handle.sig_progress.connect(lambda f, m: (self.progress.setValue(int(f * 100)), self.progress.setFormat(m)))
        handle.sig_done.connect(lambda masks: self.status_label.setText(
            f"Propagated over {len(masks)} slices ({min(masks) + 1}–{max(masks) + 1}); review each slice (DRAFT). "
            "One Undo takes it all back."))
        handle.sig_cancelled.connect(lambda: self.status_label.setText("Propagation stopped; slices so far are kept."))
        handle.sig_failed.connect(failure_slot(self, "Propagation", self.status_label))
        handle.sig_finished.connect(self._on_propagation_finished)
        self._propagate_handle = handle
        self.progress.setValue(0)
        self.progress.show()
        self.stop_button.setEnabled(True)
        self.propagate_button.setEnabled(False)
        return handle

    def _on_propagated_slice(self, segs, key: int, start: int, group: str, item) -> None:
        index, mask = item
        if key not in segs.segments or index == start:
            return
        if segs.set_slice(key, index, mask, label="propagation", from_model=True, group=group):
            segs.segments[key].prompts.append(propagation_entry(index, start))
        if segs is self.segments and index == self.viewer.current_slice():
            self._refresh_overlays()

    def _on_propagation_finished(self) -> None:
        self.progress.hide()
        self.stop_button.setEnabled(False)
        self.propagate_button.setEnabled(True)
        self._propagate_handle = None
        if self._usable():
            self._after_structure_change()

    def stop_propagation(self) -> None:
        if self._propagate_handle is not None:
            self._propagate_handle.cancel()

    def propagation_running(self) -> bool:
        return self._propagate_handle is not None and not self._propagate_handle.finished

    # -- segments -------------------------------------------------------------------------------
    def add_segment(self) -> None:
        if self.segments is not None:
            self.current_key = self.segments.add().key
            self._after_structure_change()

    def remove_segment(self) -> None:
        """Remove the current segment (undoable); a saved one is asked about first and marked rejected."""
        if self.segments is None or self.current_key not in self.segments.segments:
            return
        seg = self.segments.segments[self.current_key]
        if seg.stored_id is not None and not self._confirm(
                "Remove segment",
                f"'{seg.name}' is saved ({seg.status.value}). Remove it? Its saved record will be marked rejected "
                "so it does not reload; Undo brings it back here as a draft."):
            return
        if seg.stored_id is not None and seg.status == SegmentStatus.accepted:
            self.decide("rejected")
        self.view.set_mask_overlay(f"seg{seg.key}", None)
        self.segments.remove(seg.key)
        if not self.segments.segments:
            self.segments.add()
        self.current_key = next(iter(self.segments.segments))
        self.status_label.setText(f"Removed '{seg.name}'. Undo (Ctrl+Z) brings it back.")
        self._after_structure_change()

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _on_segment_selected(self) -> None:
        key = self.segment_list.current_key()
        if key is not None and key != self.current_key and self.segments is not None and key in self.segments.segments:
            self.current_key = key
            self._cancel_measure()
            self._refresh_buttons()
            self._show_points(self.viewer.current_slice()) if self._usable() else None
            self._measure_timer.start()
            self._show_measurements()

    def _on_segment_renamed(self, key: int, name: str) -> None:
        if self.segments is None or key not in self.segments.segments:
            return
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
        if not self._usable():
            return
        index = self.viewer.current_slice()
        shown = {f"seg{seg.key}" for seg in self.segments.segments.values()}
        for key in self.view.mask_keys():
            if key.startswith("seg") and key not in shown and key != LIVE_KEY:
                self.view.set_mask_overlay(key, None)
        for seg in self.segments.segments.values():
            mask = seg.mask[index]
            self.view.set_mask_overlay(f"seg{seg.key}", mask if mask.any() else None, seg.color, self.opacity)

    def _refresh_buttons(self) -> None:
        history = self.segments.history if self.segments is not None else None
        self.undo_button.setEnabled(bool(history and history.can_undo))
        self.redo_button.setEnabled(bool(history and history.can_redo))

    # -- leaving --------------------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        """Plain descriptions of what closing the app now would lose (empty: nothing)."""
        out = [f"draft segment '{seg.name}' (series …{uid[-8:]})" for uid, seg in self.workspace.unsaved()]
        if self.propagation_running():
            out.append("a propagation that is still running")
        return out
