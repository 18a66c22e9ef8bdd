"""The segmentation panel's mask edits: brush strokes and propagation to neighbouring slices.

:class:`EditTool` feeds the axial view's brush moves to the panel's
:class:`~medstation.segmentation.session.SegmentationSession` (which paints and groups strokes into undo steps)
and runs propagation in the ``segmentation`` lane; each propagated slice lands through the session's
``apply_propagated`` (one undo step per run, each slice's provenance naming its start slice).
"""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QObject

from medstation.segmentation.propagation import mask_box, propagate
from medstation.ui.errors import failure_slot


def _propagate_job(ctx, segmenter, start, start_mask):
    return propagate(ctx, segmenter.predict_mask, segmenter.n_slices, start, start_mask, image=segmenter.slice_image)


class EditTool(QObject):
    """Brush and eraser strokes on ``panel``'s axial view, and propagating a slice's mask through the series."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.model = panel.model
        self.propagate_handle = None
        self.propagating = None  # the SegmentSet the running propagation writes into
        self._undone = None  # the propagation an Undo or Redo stopped
        self._propagate_ids = itertools.count(1)

    def on_brush(self, x, y, radius, erase) -> None:
        """One mouse move of the brush: paints the segment from the previous dab to here on this slice only."""
        panel = self.panel
        if not panel._usable() or self.model.current is None:
            return
        erase = erase or panel.view.tool == "seg_eraser"
        index = panel.viewer.current_slice()
        dab = self.model.brush(index, x, y, radius, erase, time.monotonic())
        if dab.changed:
            seg = self.model.current
            panel.view.set_mask_overlay(f"seg{seg.key}", seg.mask[index], seg.color, panel.opacity)
            panel._refresh_buttons()
            if dab.status_changed:
                panel._fill_segments()  # accepted -> draft: the list must say so
                panel.decisions.show_measurements()
            panel.decisions.measure_soon()

    def propagate(self):
        panel = self.panel
        segmenter = panel._ready_segmenter()
        if segmenter is None or not panel._usable():
            panel.status_label.setText("Load a series and the model first.")
            return None
        index = panel.viewer.current_slice()
        start = self.model.current.mask[index].astype(bool)
        if mask_box(start) is None:
            panel.status_label.setText("Draw a mask on this slice first, then propagate from it.")
            return None
        # Its own requester: a box or click of the panel (requester=panel) replaces the panel's earlier prompt,
        # never a propagation the user started; the prompt waits in the lane and the status line says why.
        handle = panel.runner.submit("segmentation", _propagate_job, segmenter, index, start, name="propagate",
                                     requester=self)
        segs, key, group = self.model.segments, self.model.current_key, f"propagate-{next(self._propagate_ids)}"
        self.propagating = segs
        handle.sig_partial.connect(lambda item, s=segs, k=key, i=index, g=group: self._on_propagated_slice(s, k, i, g, item))
        handle.sig_progress.connect(lambda f, m: (panel.progress.setValue(int(f * 100)), panel.progress.setFormat(m)))
        handle.sig_done.connect(lambda masks, s=segs: self._on_propagated(s, masks))
        handle.sig_cancelled.connect(lambda h=handle: self._on_propagation_cancelled(h))
        handle.sig_failed.connect(failure_slot(panel, "Propagation", panel.status_label))
        handle.sig_finished.connect(self._on_propagation_finished)
        self.propagate_handle = handle
        panel.progress.setValue(0)
        panel.progress.show()
        panel.stop_button.setEnabled(True)
        panel.propagate_button.setEnabled(False)
        return handle

    def _on_propagated_slice(self, segs, key: int, start: int, group: str, item) -> None:
        index, mask = item
        if (self.model.apply_propagated(segs, key, start, group, index, mask) and segs is self.model.segments
                and index == self.panel.viewer.current_slice()):
            self.panel._refresh_overlays()

    def _on_propagated(self, segs, masks) -> None:
        span = f"{len(masks)} slices ({min(masks) + 1}–{max(masks) + 1})"
        if segs is self.model.segments:
            self.panel.status_label.setText(f"Propagated over {span}; review each slice (DRAFT). "
                                            "One Undo takes it all back.")
        else:  # the user moved on to another series meanwhile: say where the slices went
            self.panel.status_label.setText(f"The propagation on the previous series finished over {span}; "
                                            "review them there (DRAFT).")

    def _on_propagation_cancelled(self, handle) -> None:
        if handle is not self._undone:  # stopped by an Undo: the status line already says what was taken back
            self.panel.status_label.setText("Propagation stopped; slices so far are kept.")

    def _on_propagation_finished(self) -> None:
        panel = self.panel
        panel.progress.hide()
        panel.stop_button.setEnabled(False)
        panel.propagate_button.setEnabled(True)
        self.propagate_handle = None
        if panel._usable():
            panel._after_structure_change()

    def stop_propagation(self) -> None:
        if self.propagate_handle is not None:
            self.propagate_handle.cancel()

    def stop_before_history(self, segs) -> bool:
        """Undo or redo in ``segs`` while a propagation writes into it: stop the propagation first (a cancelled
        job's later slices never land), so one Undo takes the whole run back. True when it was stopped."""
        if not self.propagation_running() or segs is not self.propagating:
            return False
        self._undone = self.propagate_handle
        self.propagate_handle.cancel()
        return True

    def propagation_running(self) -> bool:
        return self.propagate_handle is not None and not self.propagate_handle.finished
