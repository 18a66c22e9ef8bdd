"""Mask edits as an undoable command stack, plus the brush and eraser.

Every change to a segment's mask — a model result, a brush dab, an eraser
stroke — is an :class:`Edit` of one axial slice holding the slice before and
after (bit-packed: a 512×512 slice costs 32 KiB each way). Undo writes
``before`` back, redo writes ``after``. Three kinds of entry sit on the stack:

* :class:`Edit`: one slice; a brush stroke (many dabs with the same ``stroke`` id)
  merges into one edit, so Ctrl+Z removes the whole stroke;
* :class:`EditGroup`: many slices changed by one action (a propagation), undone in one step;
* :class:`SegmentRemoval`: a removed segment, kept whole so undo brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

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
    prompts: tuple[dict | None, dict | None] | None = None  # the slice's prompt (before, after); None: untouched

    def before_mask(self) -> np.ndarray:
        return _unpack(self.before, self.shape)

    def after_mask(self) -> np.ndarray:
        return _unpack(self.after, self.shape)

    @property
    def slices(self) -> tuple[int, ...]:
        return (self.slice_index,)


@dataclass
class EditGroup:
    """Slice edits made by one action (``group`` id, e.g. one propagation run): one undo step."""

    group: str
    label: str
    edits: list[Edit] = field(default_factory=list)

    @property
    def segment(self) -> int:
        return self.edits[0].segment if self.edits else -1

    @property
    def slices(self) -> tuple[int, ...]:
        return tuple(sorted({e.slice_index for e in self.edits}))


@dataclass
class SegmentRemoval:
    """A segment taken out of its set; ``segment`` is the whole Segment object, ``position`` its list index."""

    segment_obj: Any
    position: int
    label: str = "remove segment"
    status_before: Any = None  # the segment's status when it was removed (an accepted one is then rejected)

    @property
    def segment(self) -> int:
        return int(self.segment_obj.key)

    @property
    def slices(self) -> tuple[int, ...]:
        return ()


Entry = Union[Edit, EditGroup, SegmentRemoval]


class EditHistory:
    """Undo/redo stack of :data:`Entry`; a new entry clears the redo side. Keeps the last ``limit`` entries."""

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self._undo: list[Entry] = []
        self._redo: list[Entry] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def peek_undo(self) -> Entry | None:
        return self._undo[-1] if self._undo else None

    def record(self, segment: int, slice_index: int, before: np.ndarray, after: np.ndarray, label: str,
               stroke: int | None = None, group: str | None = None,
               prompts: tuple[dict | None, dict | None] | None = None) -> None:
        """Record one slice change; ``stroke`` merges with the top edit, ``group`` with that group's entry.

        ``prompts``: (before, after) of the slice's model prompt when the change came from one, so undo
        and redo restore the box and clicks together with the mask."""
        if group is not None:
            self._record_in_group(group, Edit(segment, slice_index, before.shape, _pack(before), _pack(after), label))
            self._redo.clear()
            return
        last = self._undo[-1] if self._undo else None
        if stroke is not None and isinstance(last, Edit) and (last.segment, last.slice_index, last.stroke) == (
            segment, slice_index, stroke
        ):
            last.after = _pack(after)  # same stroke: extend the edit, keep its original "before"
        else:
            self._push(Edit(segment, slice_index, before.shape, _pack(before), _pack(after), label, stroke, prompts))
        self._redo.clear()

    def _record_in_group(self, group: str, edit: Edit) -> None:
        for entry in reversed(self._undo):
            if isinstance(entry, EditGroup) and entry.group == group:
                for old in entry.edits:
                    if (old.segment, old.slice_index) == (edit.segment, edit.slice_index):
                        old.after = edit.after  # the slice changed again within the group: keep the first "before"
                        return
                entry.edits.append(edit)
                return
        self._push(EditGroup(group, edit.label, [edit]))

    def record_removal(self, segment_obj, position: int) -> None:
        self._push(SegmentRemoval(segment_obj, position, status_before=getattr(segment_obj, "status", None)))
        self._redo.clear()

    def _push(self, entry: Entry) -> None:
        self._undo.append(entry)
        del self._undo[: max(0, len(self._undo) - self.limit)]

    def pop_undo(self) -> Entry | None:
        if not self._undo:
            return None
        entry = self._undo.pop()
        self._redo.append(entry)
        return entry

    def pop_redo(self) -> Entry | None:
        if not self._redo:
            return None
        entry = self._redo.pop()
        self._undo.append(entry)
        return entry


def disk(shape: tuple[int, int], x: float, y: float, radius_px: float) -> np.ndarray:
    """Bool (y, x) disk of ``radius_px`` centred on pixel (x = column, y = row); at least the centre pixel."""
    return stroke_footprint(shape, (x, y), (x, y), radius_px)


def stroke_footprint(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float],
                     radius_px: float) -> np.ndarray:
    """Bool (y, x): every pixel within ``radius_px`` of the segment p0→p1 (pixel x = column, y = row).

    A fast mouse moves many pixels between two events; painting the whole segment
    between them (a capsule) leaves no gaps in the stroke.
    """
    out = np.zeros(shape, bool)
    window = _footprint_window(shape, p0, p1, radius_px)
    if window is not None:
        (y0, y1, x0, x1), local = window
        out[y0:y1, x0:x1] = local
    return out


def _footprint_window(shape, p0, p1, radius_px):
    """((y0, y1, x0, x1), bool local footprint) of the capsule, or None when it misses the slice."""
    h, w = shape
    r = max(0.5, float(radius_px))
    (ax, ay), (bx, by) = (float(v) for v in p0), (float(v) for v in p1)
    y0, y1 = max(0, int(np.floor(min(ay, by) - r))), min(h, int(np.ceil(max(ay, by) + r)) + 1)
    x0, x1 = max(0, int(np.floor(min(ax, bx) - r))), min(w, int(np.ceil(max(ax, bx) + r)) + 1)
    if y0 >= y1 or x0 >= x1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.zeros_like(xx) if length2 == 0 else np.clip(((xx - ax) * dx + (yy - ay) * dy) / length2, 0.0, 1.0)
    local = (xx - (ax + t * dx)) ** 2 + (yy - (ay + t * dy)) ** 2 <= r * r
    return (y0, y1, x0, x1), local


def paint_in_place(mask2d: np.ndarray, p0, p1, radius_px: float, erase: bool) -> bool:
    """Paint (or erase) the capsule p0→p1 into ``mask2d`` (uint8/bool (y, x)) in place; True if a pixel changed.

    Works on the capsule's bounding window only, so a dab costs the brush's area, not the slice's.
    """
    window = _footprint_window(mask2d.shape, p0, p1, radius_px)
    if window is None:
        return False
    (y0, y1, x0, x1), local = window
    region = mask2d[y0:y1, x0:x1]
    if erase:
        changed = bool((region.astype(bool) & local).any())
        if changed:
            region[local] = 0
    else:
        changed = bool((~region.astype(bool) & local).any())
        if changed:
            region[local] = 1
    return changed


def apply_brush(mask2d: np.ndarray, x: float, y: float, radius_px: float, erase: bool) -> np.ndarray:
    """New bool (y, x) mask with a disk painted (or erased) at (x, y)."""
    mask = np.array(mask2d, bool)
    paint_in_place(mask, (x, y), (x, y), radius_px, erase)
    return mask
