"""Mask edits as an undoable command stack, plus the brush and eraser.

Every change to a segment's mask — a model result, a brush dab, an eraser
stroke — is an :class:`Edit` of one axial slice holding the slice before and
after (bit-packed: a 512×512 slice costs 32 KiB each way). Undo writes
``before`` back, redo writes ``after``. A brush stroke (many dabs with the same
``stroke`` id) merges into one edit, so Ctrl+Z removes the whole stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _pack(mask2d: np.ndarray) -> np.ndarray:
    return np.packbits(np.asarray(mask2d, bool), axis=None)


def _unpack(packed: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.unpackbits(packed, count=shape[0] * shape[1]).reshape(shape).astype(bool)


@dataclass
class Edit:
    """One slice of one segment, before and after (bit-packed (y, x))."""

    segment: int
    slice_index: int
    shape: tuple[int, int]
    before: np.ndarray
    after: np.ndarray
    label: str
    stroke: int | None = None

    def before_mask(self) -> np.ndarray:
        return _unpack(self.before, self.shape)

    def after_mask(self) -> np.ndarray:
        return _unpack(self.after, self.shape)


class EditHistory:
    """Undo/redo stack over :class:`Edit`; a new edit clears the redo side. Keeps the last ``limit`` edits."""

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def record(self, segment: int, slice_index: int, before: np.ndarray, after: np.ndarray, label: str,
               stroke: int | None = None) -> None:
        last = self._undo[-1] if self._undo else None
        if stroke is not None and last is not None and (last.segment, last.slice_index, last.stroke) == (
            segment, slice_index, stroke
        ):
            last.after = _pack(after)  # same stroke: extend the edit, keep its original "before"
        else:
            self._undo.append(Edit(segment, slice_index, before.shape, _pack(before), _pack(after), label, stroke))
            del self._undo[: max(0, len(self._undo) - self.limit)]
        self._redo.clear()

    def pop_undo(self) -> Edit | None:
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        return edit

    def pop_redo(self) -> Edit | None:
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        return edit

    def forget_segment(self, segment: int) -> None:
        self._undo = [e for e in self._undo if e.segment != segment]
        self._redo = [e for e in self._redo if e.segment != segment]


def disk(shape: tuple[int, int], x: float, y: float, radius_px: float) -> np.ndarray:
    """Bool (y, x) disk of ``radius_px`` centred on pixel (x = column, y = row); at least the centre pixel."""
    h, w = shape
    r = max(0.5, float(radius_px))
    y0, y1 = max(0, int(np.floor(y - r))), min(h, int(np.ceil(y + r)) + 1)
    x0, x1 = max(0, int(np.floor(x - r))), min(w, int(np.ceil(x + r)) + 1)
    out = np.zeros(shape, bool)
    if y0 >= y1 or x0 >= x1:
        return out
    yy, xx = np.mgrid[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    return out


def apply_brush(mask2d: np.ndarray, x: float, y: float, radius_px: float, erase: bool) -> np.ndarray:
    """New bool (y, x) mask with a disk painted (or erased) at (x, y)."""
    dab = disk(mask2d.shape, x, y, radius_px)
    mask = np.asarray(mask2d, bool)
    return mask & ~dab if erase else mask | dab
