"""``SegmentationPanel``: MedSAM box/point prompts, brush edits, propagation, measurements, accept and export.

The panel gathers gestures from the viewer's axial ``SliceView`` (see the
"Segmentation UI contract" in docs/ARCHITECTURE.md) and shows results. What the
gestures do to the segments lives in the Qt-free
:class:`~medstation.segmentation.session.SegmentationSession` (``panel.model``):
prompts, model masks and their provenance, brush strokes, undo/redo, removal,
renaming and the records a decision stores. Segments belong to their series:
switching series keeps every draft, and accepted segments reload from the store
when a series is opened.

Every model call runs in the ``segmentation`` lane, every file/database write in
the ``io`` lane, measurements in the ``measure`` lane (debounced; the newest
request wins). The GUI thread only paints the brush's footprint on one slice and
draws overlays. Three small tools of this package do the lane work and show the
results: :class:`~medstation.ui.segmentation.prompting.PromptTool` (box and point
prompts), :class:`~medstation.ui.segmentation.editing.EditTool` (brush,
propagation) and :class:`~medstation.ui.segmentation.decisions.DecisionTool`
(measurements, accept/reject, rename, export). This module holds construction,
the engine, tools, series switching and the segment list.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from medstation.segmentation.segments import SegmentSet, SegmentStatus
from medstation.segmentation.session import SegmentationSession
from medstation.segmentation.slices import neighbour_order, precompute_embeddings
from medstation.ui.errors import failure_slot
from medstation.ui.segmentation.blind_choice import SegmentationCandidateHooks
from medstation.ui.segmentation.decisions import DecisionTool
from medstation.ui.segmentation.editing import EditTool
from medstation.ui.segmentation.layout import build_controls
from medstation.ui.segmentation.prompting import LIVE_KEY, MIN_BOX_PX, PromptTool  # noqa: F401  (LIVE_KEY: tests)

log = logging.getLogger(__name__)

TOOLS = {"seg_box": "box", "seg_point": "point", "seg_brush": "brush", "seg_eraser": "brush"}
PRECOMPUTE_RADIUS = 2  # neighbouring slices embedded in the background while the user looks


class SegmentationPanel(QWidget):
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
        self.model = SegmentationSession()
        self.volume = None
        self.segmenter = None
        self.opacity = 0.45
        self._precompute_handle = None
        self.candidates = SegmentationCandidateHooks(self, shadow)  # blind choice and shadow runs (training.shadow)
        self.prompts = PromptTool(self)
        self.edits = EditTool(self)
        self.decisions = DecisionTool(self)
        build_controls(self)
        for name, shape in TOOLS.items():
            self.view.register_tool(name, shape)
        self.view.sig_box_changed.connect(self.prompts.on_box_changed)
        self.view.sig_box_drawn.connect(self.prompts.on_box_drawn)
        self.view.sig_point_clicked.connect(self.prompts.on_point_clicked)
        self.view.sig_brush.connect(self.edits.on_brush)
        self.view.sig_tool_changed.connect(self._on_view_tool_changed)
        self.viewer.sig_volume_loaded.connect(self.set_volume)
        self.viewer.sig_slice_changed.connect(self._on_viewer_slice_changed)
        if self.viewer.current_volume() is not None:
            self.set_volume(self.viewer.current_volume())

    # -- the session's state, as the panel shows it ----------------------------------------------
    @property
    def segments(self) -> SegmentSet | None:
        """The shown series' segments (the session's)."""
        return self.model.segments

    @property
    def current_key(self) -> int | None:
        return self.model.current_key

    @property
    def workspace(self):
        return self.model.workspace

    @property
    def last_prediction(self):
        return self.model.last_prediction

    @property
    def measurements(self):
        return self.decisions.measurements

    # -- actions (buttons, shortcuts, tests) -----------------------------------------------------
    def undo(self) -> None:
        if self.model.segments is not None:
            stopped = self.edits.stop_before_history(self.model.segments)
            self._after_history(*self.model.undo(), stopped=stopped)

    def redo(self) -> None:
        if self.model.segments is not None:
            stopped = self.edits.stop_before_history(self.model.segments)
            self._after_history(*self.model.redo(), stopped=stopped)

    def _after_history(self, note: str, changed: bool, stopped: bool = False) -> None:
        self.status_label.setText(("Propagation stopped. " if stopped else "") + note)
        if changed:
            self._after_structure_change()

    def propagate(self):
        return self.edits.propagate()

    def stop_propagation(self) -> None:
        self.edits.stop_propagation()

    def propagation_running(self) -> bool:
        return self.edits.propagation_running()

    def decide(self, decision: str):
        """Accept or reject the current segment (stored in the io lane); returns the job handle or None."""
        return self.decisions.decide(decision)

    def export_segments(self, kind: str, path: str):
        return self.decisions.export_segments(kind, path)

    # -- series switching -----------------------------------------------------------------------
    def set_volume(self, volume) -> None:
        """Show ``volume``'s segments: its drafts from this session, else its accepted ones from the store."""
        self.prompts.end_live_drag()
        for key in list(self.view.mask_keys()):
            if key.startswith("seg"):
                self.view.set_mask_overlay(key, None)
        self.volume = volume
        self.segmenter = None
        self.decisions.cancel_measure()
        opened = self.model.open_series(volume.series_uid, volume.pixels.shape)
        elsewhere = self.propagation_running() and self.edits.propagating is not opened.segments
        # The line speaks about the series on screen: the last series' sentence ("Mask on slice 11") must go.
        self.status_label.setText(" ".join(filter(None, [
            opened.note,
            "A propagation is still running on the previous series; its slices land there (Stop ends it)."
            if elsewhere else None])))
        if opened.made:
            self._load_saved(opened.segments)
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
        note = self.model.merge_saved(segs, stored)
        if note is not None:
            self.status_label.setText(note)
            self._after_structure_change()

    # -- engine and segmenter -------------------------------------------------------------------
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
        self.prompts.end_live_drag()
        self.model.end_stroke()
        self.view.set_mask_overlay(LIVE_KEY, None)
        if not self._usable():
            return
        self._refresh_overlays()
        self.prompts.show_points(index)  # a slice shows its own clicks, never the last slice's
        self.decisions.show_measurements()
        self._precompute_neighbours()

    # -- segments -------------------------------------------------------------------------------
    def _after_structure_change(self) -> None:
        """Segments were added, removed, decided or reloaded: redraw everything once."""
        self._refresh_overlays()
        self._refresh_buttons()
        self._fill_segments()
        self.prompts.show_points(self.viewer.current_slice()) if self._usable() else self.view.set_point_markers([], [])
        self.decisions.measure_soon()
        self.decisions.show_measurements()

    def add_segment(self) -> None:
        if self.model.add_segment() is not None:
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
            self.decisions.decide("rejected", removal=True)
        self.view.set_mask_overlay(f"seg{seg.key}", None)
        self.status_label.setText(self.model.remove_current())
        self._after_structure_change()

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _on_segment_selected(self) -> None:
        if self.model.select(self.segment_list.current_key()):
            self.decisions.cancel_measure()
            self._refresh_buttons()
            self.prompts.show_points(self.viewer.current_slice()) if self._usable() else None
            self.decisions.measure_soon()
            self.decisions.show_measurements()

    def _on_segment_renamed(self, key: int, name: str) -> None:
        if self.segments is None or key not in self.segments.segments:
            return
        problem, store = self.model.rename(key, name)
        if problem is not None:
            self.status_label.setText(problem)
        if store:
            self.decisions.store_rename(self.segments.segments[key])
        self._fill_segments()
        self.decisions.show_measurements()

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
        out = self.model.unsaved_work()
        if self.propagation_running():
            out.append("a propagation that is still running")
        return out
