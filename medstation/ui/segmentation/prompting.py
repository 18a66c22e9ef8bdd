"""The segmentation panel's prompts: box drags (decoded live), point clicks, and the model's answer landing.

:class:`PromptTool` turns the axial view's box and click gestures into prompts of the panel's
:class:`~medstation.segmentation.session.SegmentationSession` and runs them in the ``segmentation`` lane; a
newer prompt from the panel replaces the one in flight. What a result does to the segments (the mask, its
prompt, its provenance, the flags) is decided by the session's ``apply_prediction``; this tool only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from medstation.segmentation.segments import SegmentSet
from medstation.segmentation.slices import LatestBox, live_decode, segment_slice
from medstation.ui.errors import report_failure

LIVE_KEY = "seg_live"
MIN_BOX_PX = 2.0


class PromptTool(QObject):
    """Box and point prompts on ``panel``'s axial view, the live mask while dragging, and the decoded result."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.model = panel.model
        self.decode_handle = None
        self._live_boxes: LatestBox | None = None  # the drag in progress, fed to one live_decode job

    def on_box_changed(self, x0, y0, x1, y1) -> None:
        """Live update while dragging: one job decodes the newest box each time the last mask is out."""
        panel = self.panel
        if abs(x1 - x0) < MIN_BOX_PX or abs(y1 - y0) < MIN_BOX_PX or not panel._usable():
            return
        if panel.propagation_running():
            return  # the lane is busy propagating: a live preview would only queue behind it
        if self._live_boxes is None or self._live_boxes.closed:
            segmenter = panel._ready_segmenter()
            if segmenter is None:
                return  # the release will say the model is still loading
            self._live_boxes = LatestBox()
            handle = panel.runner.submit("segmentation", live_decode, segmenter, panel.viewer.current_slice(),
                                         self._live_boxes, name="live box", requester=panel)
            handle.sig_partial.connect(lambda result, s=self.model.segments: self._on_live_mask(s, result))
            handle.sig_failed.connect(self._on_decode_failed)
        self._live_boxes.put((x0, y0, x1, y1))

    def _on_live_mask(self, segs, result) -> None:
        index, prediction = result
        if (self._live_boxes is not None and not self._live_boxes.closed and segs is self.model.segments
                and index == self.panel.viewer.current_slice()):
            self.panel.view.set_mask_overlay(LIVE_KEY, prediction.mask, "#ffff40", self.panel.opacity)

    def end_live_drag(self) -> None:
        if self._live_boxes is not None:
            self._live_boxes.close()
            self._live_boxes = None

    def on_box_drawn(self, x0, y0, x1, y1) -> None:
        panel = self.panel
        self.end_live_drag()
        panel.view.set_mask_overlay(LIVE_KEY, None)
        if not panel._usable():
            return
        w, h = abs(x1 - x0), abs(y1 - y0)
        if w < MIN_BOX_PX or h < MIN_BOX_PX:
            panel.status_label.setText(
                f"That box is {w:.0f}×{h:.0f} px: nothing to segment. Drag a box around the structure "
                f"(at least {MIN_BOX_PX:.0f} px each way), or use Points to click on it.")
            return
        index = panel.viewer.current_slice()
        prompt = self.model.box_prompt(index, (x0, y0, x1, y1))
        self.show_points(index)
        self.decode(prompt)

    def on_point_clicked(self, x, y, positive) -> None:
        panel = self.panel
        if not panel._usable():
            return
        index = panel.viewer.current_slice()
        prompt = self.model.point_prompt(index, x, y, positive)
        self.show_points(index)
        engine = panel.service.engine() if panel.service is not None else None
        problem = self.model.points_problem(prompt, engine.spec if engine is not None else None)
        if problem is not None:
            panel.status_label.setText(problem)
            return
        self.decode(prompt)

    def show_points(self, index: int) -> None:
        """Draw the current segment's clicks on slice ``index`` only (none from other slices or segments)."""
        prompt = self.model.prompt(index)
        self.panel.view.set_point_markers(prompt["points"] if prompt else [], prompt["labels"] if prompt else [])

    def decode(self, prompt: dict):
        """Run ``prompt`` (box, clicks) on the current slice; the mask lands with the prompt as one undo step."""
        panel = self.panel
        box, points, labels = prompt["box"], prompt["points"] or None, prompt["labels"] or None
        segmenter = panel._ready_segmenter()
        if segmenter is None:
            panel.status_label.setText("The model is still loading; draw the box again in a moment.")
            panel.ensure_engine()
            return None
        index = panel.viewer.current_slice()
        if panel.propagation_running():
            panel.status_label.setText("A propagation is running: this prompt is segmented when it finishes "
                                       "(Stop ends the propagation now).")
        blind = panel.candidates.decode(segmenter, index, box) if box is not None and not points else None
        if blind is not None:
            self.decode_handle = blind
            return blind
        handle = panel.runner.submit("segmentation", segment_slice, segmenter, index, box=box, points=points,
                                     labels=labels, name="segment slice", requester=panel)
        segs, key = self.model.segments, self.model.current_key
        handle.sig_done.connect(lambda result, sg=segmenter: panel.candidates.after_decode(sg, result))
        handle.sig_progress.connect(lambda _f, m: panel.status_label.setText(m))
        handle.sig_done.connect(lambda result, s=segs, k=key, p=prompt: self.land(s, k, result, p))
        handle.sig_failed.connect(
            lambda m, tb, exc, s=segs, k=key, i=index, b=box: self._on_prompt_failed(s, k, i, b, m, tb, exc))
        self.decode_handle = handle
        return handle

    def _on_prompt_failed(self, segs, key, index, box, message, details, exc=None) -> None:
        if self.model.drop_refused_box(segs, key, index, box):  # a refused box must not poison the next clicks
            message += " The box was dropped; click points on the structure or draw another box."
        self._on_decode_failed(message, details, exc)

    def _on_decode_failed(self, message: str, details: str, exc: object = None) -> None:
        """A refused prompt (a UserFacingError) is explained on the status line; a bug gets a dialog."""
        report_failure(self.panel, "", message, details, exc, self.panel.status_label)

    def land(self, segs: SegmentSet, key: int, result, prompt: dict | None = None, provenance: dict | None = None):
        """A model mask arrived (``result`` = (slice, MaskPrediction)): the session applies it; show the outcome.

        ``prompt``: the box and clicks as sent (None: taken from the prediction); ``provenance``: extra keys of
        its prompt record (a blind pick's version and preference)."""
        panel = self.panel
        index, prediction = result
        volume = panel.volume if segs is self.model.segments else None
        engine = panel.segmenter.engine if panel.segmenter is not None else None
        note = self.model.apply_prediction(
            segs, key, index, prediction, prompt=prompt, engine=engine,
            pixels=volume.pixels[index] if volume is not None else None,
            modality=volume.modality if volume is not None else "", provenance=provenance)
        if note is not None:
            panel.status_label.setText(note)
            panel._after_structure_change()
