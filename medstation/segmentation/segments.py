"""Several labelled segments per series, each a (z, y, x) mask with a name and colour.

:class:`SegmentSet` is the Qt-free model behind the segmentation panel: every
change goes through :meth:`SegmentSet.set_slice` (or :meth:`SegmentSet.brush`)
so it lands on the shared undo/redo :class:`~medstation.segmentation.editing.EditHistory`;
removing a segment is undoable too. Model prompts (box, clicks) belong to a
(segment, slice) and travel with the history: undo of a model result brings back
the prompt that made the mask shown, so stale clicks never steer the next try. Each segment also keeps ``ai_mask``: the
model's unedited output, saved beside the corrected mask on accept so
corrections can train a later model.

:class:`SeriesSegments` keeps one SegmentSet per series, so switching series
never drops a draft: segments belong to their series.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from medstation.segmentation.editing import Edit, EditGroup, EditHistory, SegmentRemoval, paint_in_place
from medstation.store.tables import SegmentationStatus as SegmentStatus

PALETTE = ["#ff4040", "#40c0ff", "#50e050", "#ffc020", "#d060ff", "#ff8040", "#40ffd0", "#ff60b0"]

__all__ = ["PALETTE", "HistoryStep", "Segment", "SegmentSet", "SegmentStatus", "SeriesSegments"]


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
    status: SegmentStatus = SegmentStatus.draft  # draft until a human accepts (or rejects) it
    stored_id: int | None = None  # Segmentation.id once saved
    flags: list[str] = field(default_factory=list)  # plausibility warnings on the latest model result

    def slices_with_mask(self) -> list[int]:
        return [int(k) for k in np.flatnonzero(self.mask.reshape(self.mask.shape[0], -1).any(axis=1))]

    @property
    def unsaved(self) -> bool:
        """A draft with something drawn: closing or dropping it would lose work."""
        return self.status == SegmentStatus.draft and bool(self.mask.any())


@dataclass(frozen=True)
class HistoryStep:
    """What an undo or redo touched: ``kind`` edit | group | removal, the segment key, the slices, the label."""

    kind: str
    segment: int
    slices: tuple[int, ...]
    label: str


class SegmentSet:
    """All segments of one series (volume shape (z, y, x)) plus their edit history."""

    def __init__(self, series_uid: str, shape: tuple[int, int, int]) -> None:
        self.series_uid = series_uid
        self.shape = tuple(int(n) for n in shape)
        self.segments: dict[int, Segment] = {}
        self.history = EditHistory()
        self._next_key = 1
        # (segment, slice) -> {"box": (x0, y0, x1, y1) | None, "points": [(x, y)], "labels": [1|0]}
        self._prompts: dict[tuple[int, int], dict] = {}  # what the next click adds to (may wait for a box)
        self._landed: dict[tuple[int, int], dict] = {}  # the prompt of the model mask on the slice now

    _KEEP = object()  # set_slice: the change leaves the slice's prompt as it is (a brush, a propagation)

    def prompt(self, key: int, slice_index: int) -> dict | None:
        """A copy of the prompt on ``slice_index`` of segment ``key`` (None: no prompt there)."""
        found = self._prompts.get((key, slice_index))
        return copy.deepcopy(found) if found is not None else None

    def set_prompt(self, key: int, slice_index: int, prompt: dict | None) -> None:
        """Set the working prompt without a mask change (points waiting for a box, a refused box dropped)."""
        if prompt is None:
            self._prompts.pop((key, slice_index), None)
        else:
            self._prompts[(key, slice_index)] = copy.deepcopy(prompt)

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

    def add_stored(self, stored) -> Segment:
        """Add a saved segment (:class:`~medstation.segmentation.records.StoredSegment`) with its status and id."""
        if tuple(stored.mask.shape) != self.shape:
            raise ValueError(f"saved mask {stored.mask.shape} does not fit this series {self.shape}")
        seg = self.add(stored.name, stored.color or None)
        seg.mask[:] = stored.mask
        seg.ai_mask[:] = stored.ai_mask
        seg.prompts, seg.engine = list(stored.prompts), stored.engine
        seg.status, seg.stored_id = SegmentStatus(stored.status), stored.id
        return seg

    def stored_ids(self) -> set[int]:
        return {s.stored_id for s in self.segments.values() if s.stored_id is not None}

    def is_blank(self) -> bool:
        """Nothing drawn and nothing saved: a set that can be replaced without loss."""
        return all(not s.mask.any() and s.stored_id is None for s in self.segments.values())

    def unsaved(self) -> list[Segment]:
        return [s for s in self.segments.values() if s.unsaved]

    def remove(self, key: int) -> None:
        """Take segment ``key`` out; undo brings it back."""
        position = list(self.segments).index(key)
        seg = self.segments.pop(key)
        self.history.record_removal(seg, position)

    def rename(self, key: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a segment needs a name")
        self.segments[key].name = name

    def set_slice(self, key: int, slice_index: int, mask2d: np.ndarray, *, label: str,
                  from_model: bool = False, stroke: int | None = None, group: str | None = None,
                  prompt=_KEEP) -> bool:
        """Replace slice ``slice_index`` of segment ``key``; returns False when nothing changed.

        ``from_model``: also record it as the AI's output for that slice. ``group``: edits
        with the same group id (one propagation) undo as one step. ``prompt``: the prompt that
        made this mask; it becomes the slice's prompt and one undo step with the mask (a click that
        leaves the mask as it was is still a step). Any mask change after an accept makes the
        segment a draft again.
        """
        seg = self.segments[key]
        new = np.asarray(mask2d, bool)
        if new.shape != self.shape[1:]:
            raise ValueError(f"mask {new.shape} does not fit slice shape {self.shape[1:]}")
        if from_model:
            seg.ai_mask[slice_index] = new
        before = seg.mask[slice_index].astype(bool)
        where = (key, slice_index)
        prompts = None
        if prompt is not self._KEEP:
            prompts = (copy.deepcopy(self._landed.get(where)), copy.deepcopy(prompt))
            self._set_landed(where, prompt)
        mask_changed = not np.array_equal(before, new)
        if not mask_changed and (prompts is None or prompts[0] == prompts[1]):
            return False
        self.history.record(key, slice_index, before, new, label, stroke, group, prompts)
        if mask_changed:
            seg.mask[slice_index] = new
            seg.status = SegmentStatus.draft
        return mask_changed

    def _set_landed(self, where: tuple[int, int], prompt: dict | None) -> None:
        for table in (self._landed, self._prompts):
            if prompt is None:
                table.pop(where, None)
            else:
                table[where] = copy.deepcopy(prompt)

    def brush(self, key: int, slice_index: int, x: float, y: float, radius_px: float, erase: bool,
              stroke: int | None = None, from_xy: tuple[float, float] | None = None) -> bool:
        """Paint (erase) a disk at (x, y), or the capsule from ``from_xy`` to (x, y) so fast strokes have no gaps.

        Touches only the brush's window of one slice: cost is the brush area plus one
        bit-packed slice for the undo record, never the whole volume.
        """
        seg = self.segments[key]
        top = self.history.peek_undo()
        same_stroke = stroke is not None and isinstance(top, Edit) and (top.segment, top.slice_index, top.stroke) == (
            key, slice_index, stroke)
        before = None if same_stroke else seg.mask[slice_index].astype(bool)
        if not paint_in_place(seg.mask[slice_index], from_xy or (x, y), (x, y), radius_px, erase):
            return False
        after = seg.mask[slice_index]
        self.history.record(key, slice_index, after if before is None else before, after,
                            "eraser" if erase else "brush", stroke)
        seg.status = SegmentStatus.draft
        return True

    def undo(self) -> HistoryStep | None:
        """Undo the last entry; returns what it touched, or None when there is nothing to undo."""
        entry = self.history.pop_undo()
        return None if entry is None else self._apply(entry, undo=True)

    def redo(self) -> HistoryStep | None:
        entry = self.history.pop_redo()
        return None if entry is None else self._apply(entry, undo=False)

    def _apply(self, entry, *, undo: bool) -> HistoryStep:
        if isinstance(entry, SegmentRemoval):
            if undo:
                items = list(self.segments.items())
                items.insert(min(entry.position, len(items)), (entry.segment, entry.segment_obj))
                self.segments = dict(items)
                # Back as a draft: removing an accepted segment marked its record rejected, so only a person's
                # new Accept keeps it; a segment saved as rejected before it was removed stays rejected.
                if entry.status_before != SegmentStatus.rejected:
                    entry.segment_obj.status = SegmentStatus.draft
            else:
                self.segments.pop(entry.segment, None)
            return HistoryStep("removal", entry.segment, (), entry.label)
        edits = entry.edits if isinstance(entry, EditGroup) else [entry]
        for edit in edits:
            seg = self.segments.get(edit.segment)
            if seg is not None:
                seg.mask[edit.slice_index] = edit.before_mask() if undo else edit.after_mask()
                seg.status = SegmentStatus.draft
            if edit.prompts is not None:
                self._set_landed((edit.segment, edit.slice_index), edit.prompts[0 if undo else 1])
        kind = "group" if isinstance(entry, EditGroup) else "edit"
        return HistoryStep(kind, entry.segment, entry.slices, entry.label)


class SeriesSegments:
    """One :class:`SegmentSet` per series UID, kept while the app runs (drafts survive a series switch).

    A series re-read with another number of slices (a missing file arrived) cannot show the segments drawn on
    its old slices; those stay where they are, and the set drawn on the new slices is kept beside them
    (:meth:`keep_aside`), so neither is lost on a switch or forgotten when closing asks about drafts."""

    def __init__(self) -> None:
        self._sets: dict[str, SegmentSet] = {}
        self._aside: dict[tuple[str, tuple[int, ...]], SegmentSet] = {}  # (uid, shape) -> set of another shape

    def get(self, series_uid: str) -> SegmentSet | None:
        return self._sets.get(series_uid)

    def get_or_create(self, series_uid: str, shape: tuple[int, int, int]) -> tuple[SegmentSet, bool]:
        """(the set for ``series_uid``, True when it was just made). A set whose shape no longer fits
        (the series was re-indexed with more or fewer files) is replaced only when it holds nothing."""
        shape = tuple(int(n) for n in shape)
        existing = self._sets.get(series_uid)
        if existing is not None and existing.shape == shape:
            return existing, False
        beside = self._aside.get((series_uid, shape))
        if beside is not None:
            return beside, False
        if existing is not None and not existing.is_blank():
            raise ValueError(
                f"this series now has shape {tuple(shape)} but its segments were drawn on {existing.shape}")
        made = SegmentSet(series_uid, shape)
        self._sets[series_uid] = made
        return made, True

    def keep_aside(self, series_uid: str, shape: tuple[int, int, int]) -> SegmentSet:
        """A new set for ``series_uid`` in ``shape``, kept beside the drawn set of its other shape."""
        made = SegmentSet(series_uid, shape)
        self._aside[(series_uid, made.shape)] = made
        return made

    def unsaved(self) -> list[tuple[str, Segment]]:
        """Every draft with content, in any series: what closing the app would lose."""
        sets = list(self._sets.items()) + [(uid, s) for (uid, _shape), s in self._aside.items()]
        return [(uid, seg) for uid, s in sets for seg in s.unsaved()]
