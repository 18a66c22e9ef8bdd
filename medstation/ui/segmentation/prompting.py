"""The segmentation panel's prompts: box drags (decoded live), point clicks and the model's answer.

A mixin of :class:`~medstation.ui.segmentation.panel.SegmentationPanel`, relying on its attributes
(``segments``, ``current_key``, ``volume``, ``view``, ``viewer``, ``runner``, ``service``, ``candidates``,
``status_label``) and helpers (``_usable``, ``_ready_segmenter``, ``_after_structure_change``). Decoding runs
in the ``segmentation`` lane; a newer prompt from this panel replaces the one in flight.
"""

from __future__ import annotations

from medstation.segmentation.plausibility import mask_flags, refinement_flags
from medstation.segmentation.records import prompt_entry
from medstation.segmentation.segments import SegmentSet
from medstation.segmentation.slices import LatestBox, live_decode, segment_slice
from medstation.ui.errors import report_failure

LIVE_KEY = "seg_live"
MIN_BOX_PX = 2.0


class PromptHandling:
    """Box and point prompts on the axial view, the live mask while dragging, and the decoded result."""

    def _prompt(self, index: int) -> dict | None:
        """The current segment's prompt on slice ``index`` (prompts belong to a segment and a slice)."""
        return self.segments.prompt(self.current_key, index) if self.segments is not None else None

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
        old = self._prompt(index)
        kept = old if old is not None and old["box"] is None else {"points": [], "labels": []}  # points waiting for a box
        prompt = {"box": (x0, y0, x1, y1), "points": list(kept["points"]), "labels": list(kept["labels"])}
        self.segments.set_prompt(self.current_key, index, prompt)
        self._show_points(index)
        self._decode(prompt)

    def _on_view_point_clicked(self, x, y, positive) -> None:
        if not self._usable():
            return
        index = self.viewer.current_slice()
        prompt = self._prompt(index) or {"box": None, "points": [], "labels": []}
        prompt["points"].append((float(x), float(y)))
        prompt["labels"].append(1 if positive else 0)
        self.segments.set_prompt(self.current_key, index, prompt)
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
        self._decode(prompt)

    def _show_points(self, index: int) -> None:
        """Draw the current segment's clicks on slice ``index`` only (none from other slices or segments)."""
        prompt = self._prompt(index)
        points = prompt["points"] if prompt else []
        labels = prompt["labels"] if prompt else []
        self.view.set_point_markers(points, labels)

    def _decode(self, prompt: dict):
        """Run ``prompt`` (box, clicks) on the current slice; the mask lands with the prompt as one undo step."""
        box, points, labels = prompt["box"], prompt["points"] or None, prompt["labels"] or None
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
        handle.sig_done.connect(lambda result, s=segs, k=key, p=prompt: self._on_decoded(s, k, result, p))
        handle.sig_failed.connect(lambda m, tb, exc, s=segs, k=key, i=index, b=box: self._on_prompt_failed(s, k, i, b, m, tb, exc))
        self._decode_handle = handle
        return handle

    def _on_prompt_failed(self, segs, key, index, box, message, details, exc=None) -> None:
        prompt = segs.prompt(key, index) if key in segs.segments else None
        if box is not None and prompt is not None and prompt.get("box") == box:
            prompt["box"] = None  # a refused box must not poison the points clicked next
            segs.set_prompt(key, index, prompt)
            message += " The box was dropped; click points on the structure or draw another box."
        self._on_decode_failed(message, details, exc)

    def _on_decode_failed(self, message: str, details: str, exc: object = None) -> None:
        """A refused prompt (a UserFacingError) is explained on the status line; a bug gets a dialog."""
        report_failure(self, "", message, details, exc, self.status_label)

    def _on_decoded(self, segs: SegmentSet, key: int, result, prompt: dict | None = None) -> None:
        """A model mask landed: it replaces the slice together with the prompt that made it (one undo step).

        ``prompt``: the box and clicks as the panel sent them (None: taken from the prediction)."""
        index, prediction = result
        if key not in segs.segments:
            return  # the segment was removed while the model ran
        self.last_prediction = prediction
        seg = segs.segments[key]
        engine = self.segmenter.engine if self.segmenter is not None else None
        if engine is not None:
            seg.engine, seg.model_version = engine.name, engine.model_version
        points = list(getattr(prediction, "points", None) or [])
        if prompt is None:
            prompt = {"box": tuple(prediction.box) if prediction.box else None,
                      "points": [(p[0], p[1]) for p in points], "labels": [p[2] for p in points]}
        seg.prompts.append(prompt_entry(index, prediction))
        volume = self.volume if segs is self.segments else None
        pixels = volume.pixels[index] if volume is not None else None
        modality = volume.modality if volume is not None else ""
        seg.flags = mask_flags(prediction.mask, prediction.box, pixels, modality)
        if points and seg.mask[index].any():  # a refinement: compare with the mask it refined
            seg.flags += refinement_flags(seg.mask[index], prediction.mask, pixels, modality)
        segs.set_slice(key, index, prediction.mask, label="model", from_model=True, prompt=prompt)
        if segs is not self.segments:
            return
        notes = getattr(prediction, "notes", ())  # a candidate model's mask (blind choice) has none
        clicks = f" Clicks: {'; '.join(notes)}." if notes else ""
        if prediction.empty:
            note = "EMPTY mask: the model found nothing here."
        elif seg.flags:
            note = f"FLAGGED mask on slice {index + 1}: {'; '.join(seg.flags)}. Check it, redraw or erase it (DRAFT)."
        else:
            note = f"Mask on slice {index + 1}: {int(prediction.mask.sum())} px in {prediction.seconds * 1000:.0f} ms (DRAFT)"
        self.status_label.setText(note + clicks)
        self._after_structure_change()
