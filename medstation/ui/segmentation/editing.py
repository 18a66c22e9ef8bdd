"""The segmentation panel's mask edits: brush strokes, undo/redo and propagation to neighbouring slices.

A mixin of :class:`~medstation.ui.segmentation.panel.SegmentationPanel`, relying on its attributes
(``segments``, ``current_key``, ``view``, ``viewer``, ``runner``, the progress and button widgets) and helpers
(``_usable``, ``_ready_segmenter``, ``_after_structure_change``, ``_refresh_overlays``). Each brush stroke and
each propagation is one undo step.
"""

from __future__ import annotations

import time

from medstation.segmentation.propagation import mask_box, propagate
from medstation.segmentation.records import propagation_entry
from medstation.segmentation.segments import SegmentStatus
from medstation.ui.errors import failure_slot

STROKE_PAUSE_S = 0.4  # a longer pause between dabs starts a new stroke (one undo step per stroke)


def _propagate_job(ctx, segmenter, start, start_mask):
    return propagate(ctx, segmenter.predict_mask, segmenter.n_slices, start, start_mask, image=segmenter.slice_image)


class EditsAndPropagation:
    """Brush and eraser strokes, undo/redo of any edit, and propagating a slice's mask through the series."""

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
