"""Mask edits: undo/redo over model results, brush strokes and erasing; several named segments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medstation.segmentation.editing import apply_brush, disk
from medstation.segmentation.segments import HistoryStep, SegmentSet


def test_disk_area_and_clipping():
    d = disk((50, 50), 25, 25, 10)
    assert abs(int(d.sum()) - np.pi * 100) < 15
    assert disk((10, 10), -30, -30, 3).sum() == 0
    assert disk((10, 10), 0, 0, 0.2).sum() == 1  # a tiny brush still paints its pixel


def test_model_result_brush_erase_undo_redo():
    segs = SegmentSet("1.2.3", (3, 20, 20))
    liver = segs.add("liver")
    ai = np.zeros((20, 20), bool)
    ai[5:10, 5:10] = True
    assert segs.set_slice(liver.key, 1, ai, label="model", from_model=True)
    assert segs.brush(liver.key, 1, 15, 15, 2, erase=False, stroke=1)
    assert segs.brush(liver.key, 1, 16, 15, 2, erase=False, stroke=1)  # same stroke: one edit
    assert segs.brush(liver.key, 1, 7, 7, 1, erase=True, stroke=2)
    after_all = liver.mask[1].copy()
    assert liver.ai_mask[1].sum() == 25 and not liver.mask[1, 7, 7] and liver.mask[1, 15, 16]

    assert segs.undo() == HistoryStep("edit", liver.key, (1,), "eraser")
    assert liver.mask[1, 7, 7]
    assert segs.undo() == HistoryStep("edit", liver.key, (1,), "brush")  # the whole stroke
    assert np.array_equal(liver.mask[1], ai)
    assert segs.undo() == HistoryStep("edit", liver.key, (1,), "model")
    assert liver.mask.sum() == 0 and segs.undo() is None
    assert liver.ai_mask[1].sum() == 25  # the AI output is kept for training, whatever the undo

    for _ in range(3):
        segs.redo()
    assert np.array_equal(liver.mask[1], after_all) and segs.redo() is None


def test_new_edit_clears_redo_and_unchanged_edit_is_not_recorded():
    segs = SegmentSet("s", (1, 8, 8))
    seg = segs.add()
    segs.brush(seg.key, 0, 3, 3, 1, erase=False)
    segs.undo()
    assert segs.history.can_redo
    segs.brush(seg.key, 0, 5, 5, 1, erase=False)
    assert not segs.history.can_redo
    assert not segs.set_slice(seg.key, 0, seg.mask[0], label="same")


def test_segments_are_named_coloured_and_independent():
    segs = SegmentSet("s", (2, 6, 6))
    a, b = segs.add("lesion"), segs.add()
    assert b.name == "Segment 2" and a.color != b.color
    segs.rename(b.key, "  cyst ")
    assert b.name == "cyst"
    with pytest.raises(ValueError):
        segs.rename(a.key, " ")
    segs.brush(a.key, 0, 2, 2, 1, erase=False)
    segs.brush(b.key, 1, 3, 3, 1, erase=False)
    assert a.slices_with_mask() == [0] and b.slices_with_mask() == [1]
    segs.remove(a.key)
    assert list(segs.segments) == [b.key]
    assert segs.undo() == HistoryStep("removal", a.key, (), "remove segment")  # the removal is undoable
    assert list(segs.segments) == [a.key, b.key] and a.slices_with_mask() == [0]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 15), st.floats(0, 15), st.floats(0.5, 4), st.booleans()),
                min_size=1, max_size=12))
def test_undo_everything_restores_the_start(dabs):
    segs = SegmentSet("s", (2, 16, 16))
    seg = segs.add()
    start = np.random.default_rng(0).random((2, 16, 16)) > 0.7
    seg.mask[:] = start
    states = []
    for k, x, y, r, erase in dabs:
        states.append(seg.mask.copy())
        segs.brush(seg.key, k, x, y, r, erase)
    while segs.undo() is not None:
        pass
    assert np.array_equal(seg.mask.astype(bool), start)
    while segs.redo() is not None:
        pass
    expected = start.copy()
    for k, x, y, r, erase in dabs:
        expected[k] = apply_brush(expected[k], x, y, r, erase)
    assert np.array_equal(seg.mask.astype(bool), expected)
