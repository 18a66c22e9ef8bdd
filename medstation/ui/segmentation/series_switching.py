"""The segmentation panel's series switching: each series keeps its own segments.

A mixin of :class:`~medstation.ui.segmentation.panel.SegmentationPanel`, relying on its attributes
(``workspace``, ``segments``, ``current_key``, ``view``, ``service``, ``runner``, ``status_label``) and
helpers (``_end_live_drag``, ``_cancel_measure``, ``_after_structure_change``, ``ensure_engine``). Drafts
stay in the session's :class:`SeriesSegments`; accepted segments are read back from the store in the ``io``
lane when a series is first opened.
"""

from __future__ import annotations

from medstation.segmentation.segments import SegmentSet
from medstation.ui.errors import failure_slot


class SeriesSwitching:
    """Showing a newly opened volume's segments: its drafts from this session, else the accepted ones."""

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
