"""Several labelled segments per series, each a (z, y, x) mask with a name and colour.

:class:`SegmentSet` is the Qt-free model behind the segmentation panel: every
change goes through :meth:`SegmentSet.set_slice` so it lands on the shared
undo/redo :class:`~medstation.segmentation.editing.EditHistory`. Each segment also
keeps ``ai_mask``: the model's unedited output, saved beside the corrected mask on
accept so corrections can train a later model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medstation.segmentation.editing import EditHistory, apply_brush

PALETTE = ["#ff4040", "#40c0ff", "#50e050", "#ffc020", "#d060ff", "#ff8040", "#40ffd0", "#ff60b0"]


@dataclass
class Segment:
    """One label. ``mask``/``ai_mask`` uint8 (z, y, x) 0/1; ``prompts`` JSON-able provenance."""

    key: int
    name: str
    color: str
    mask: np.ndarray
    ai_mask: np.ndarray
    prompts: list[dict] = field(default_factory=list)
    engine: str = ""
    model_version: str = ""
    status: str = "draft"  # draft until a human accepts (or rejects) it
    stored_id: int | None = None  # Segmentation.id once saved

    def slices_with_mask(self) -> list[int]:
        return [int(k) for k in np.flatnonzero(self.mask.reshape(self.mask.shape[0], -1).any(axis=1))]


class SegmentSet:
    """All segments of one series (volume shape (z, y, x)) plus their edit history."""

    def __init__(self, series_uid: str, shape: tuple[int, int, int]) -> None:
        self.series_uid = series_uid
        self.shape = tuple(int(n) for n in shape)
        self.segments: dict[int, Segment] = {}
        self.history = EditHistory()
        self._next_key = 1

    def add(self, name: str | None = None, color: str | None = None) -> Segment:
        key = self._next_key
        self._next_key += 1
        seg = Segment(
            key=key,
            name=name or f"Segment {key}",
            color=color or PALETTE[(key - 1) % len(PALETTE)],
            mask=np.zeros(self.shape, np.uint8),
            ai_mask=np.zeros(self.shape, np.uint8),
        )
        self.segments[key] = seg
        return seg

    def remove(self, key: int) -> None:
        self.segments.pop(key)
        self.history.forget_segment(key)

    def rename(self, key: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a segment needs a name")
        self.segments[key].name = name

    def set_slice(self, key: int, slice_index: int, mask2d: np.ndarray, *, label: str,
                  from_model: bool = False, stroke: int | None = None) -> bool:
        """Replace slice ``slice_index`` of segment ``key``; returns False when nothing changed.

        ``from_model``: also record it as the AI's output for that slice. Any change
        after an accept makes the segment a draft again.
        """
        seg = self.segments[key]
        new = np.asarray(mask2d, bool)
        if new.shape != self.shape[1:]:
            raise ValueError(f"mask {new.shape} does not fit slice shape {self.shape[1:]}")
        if from_model:
            seg.ai_mask[slice_index] = new
        before = seg.mask[slice_index].astype(bool)
        if np.array_equal(before, new):
            return False
        self.history.record(key, slice_index, before, new, label, stroke)
        seg.mask[slice_index] = new
        seg.status = "draft"
        return True

    def brush(self, key: int, slice_index: int, x: float, y: float, radius_px: float, erase: bool,
              stroke: int | None = None) -> bool:
        current = self.segments[key].mask[slice_index]
        painted = apply_brush(current, x, y, radius_px, erase)
        return self.set_slice(key, slice_index, painted, label="eraser" if erase else "brush", stroke=stroke)

    def undo(self) -> tuple[int, int] | None:
        """Undo the last edit; returns (segment key, slice index) it touched, or None."""
        edit = self.history.pop_undo()
        if edit is None:
            return None
        if edit.segment in self.segments:
            self.segments[edit.segment].mask[edit.slice_index] = edit.before_mask()
            self.segments[edit.segment].status = "draft"
        return edit.segment, edit.slice_index

    def redo(self) -> tuple[int, int] | None:
        edit = self.history.pop_redo()
        if edit is None:
            return None
        if edit.segment in self.segments:
            self.segments[edit.segment].mask[edit.slice_index] = edit.after_mask()
            self.segments[edit.segment].status = "draft"
        return edit.segment, edit.slice_index
