"""Segments belong to their series: kept across switches, reloaded after a restart; one-step undos; flags."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.segmentation.editing import stroke_footprint
from medstation.segmentation.plausibility import mask_flags
from medstation.segmentation.records import SegmentRecord, load_stored_segments, prompt_entry, propagation_entry, save_decision
from medstation.segmentation.segments import SegmentSet, SegmentStatus, SeriesSegments


def _square(shape=(16, 16), r0=4, r1=9):
    m = np.zeros(shape, bool)
    m[r0:r1, r0:r1] = True
    return m


def test_a_propagation_undoes_in_one_step_and_status_follows():
    segs = SegmentSet("s", (20, 16, 16))
    seg = segs.add()
    segs.set_slice(seg.key, 10, _square(), label="model", from_model=True)
    seg.status = SegmentStatus.accepted
    for k in list(range(11, 20)) + list(range(0, 10)):  # streamed slice by slice, as the job sends them
        segs.set_slice(seg.key, k, _square(), label="propagate", from_model=True, group="prop-1")
    assert seg.slices_with_mask() == list(range(20)) and seg.status == SegmentStatus.draft
    step = segs.undo()
    assert step.kind == "group" and step.slices == tuple(k for k in range(20) if k != 10)
    assert seg.slices_with_mask() == [10]  # one undo: only the start slice is left
    assert segs.undo().label == "model" and not seg.mask.any() and seg.status == SegmentStatus.draft
    segs.redo()
    segs.redo()
    assert seg.slices_with_mask() == list(range(20))


def test_a_brush_edit_between_propagated_slices_stays_its_own_step():
    segs = SegmentSet("s", (5, 16, 16))
    seg = segs.add()
    segs.set_slice(seg.key, 1, _square(), label="propagate", group="g")
    segs.brush(seg.key, 4, 2, 2, 1, erase=False, stroke=1)
    segs.set_slice(seg.key, 2, _square(), label="propagate", group="g")
    assert segs.undo().label == "brush"
    assert seg.slices_with_mask() == [1, 2]
    assert segs.undo().slices == (1, 2) and not seg.mask.any()


def test_removing_a_segment_can_be_undone_and_redone():
    segs = SegmentSet("s", (2, 8, 8))
    a, b = segs.add("liver"), segs.add("spleen")
    segs.brush(a.key, 0, 3, 3, 2, erase=False)
    segs.remove(a.key)
    assert list(segs.segments) == [b.key]
    segs.undo()
    assert list(segs.segments) == [a.key, b.key] and segs.segments[a.key].mask.any()
    segs.redo()
    assert list(segs.segments) == [b.key]


def test_fast_strokes_have_no_gaps():
    stroke = stroke_footprint((40, 80), (5.0, 20.0), (70.0, 20.0), 2.0)  # two mouse events 65 px apart
    assert stroke[20, 5:71].all() and stroke[18:23, 40].all() and not stroke[10].any()
    segs = SegmentSet("s", (1, 40, 80))
    seg = segs.add()
    segs.brush(seg.key, 0, 5, 20, 2, erase=False, stroke=1)
    segs.brush(seg.key, 0, 70, 20, 2, erase=False, stroke=1, from_xy=(5, 20))
    assert seg.mask[0, 20, 5:71].all()
    assert segs.undo().label == "brush" and not seg.mask.any()  # still one stroke


def test_series_keep_their_own_drafts():
    work = SeriesSegments()
    ct, made = work.get_or_create("ct", (3, 8, 8))
    assert made
    seg = ct.add()
    ct.brush(seg.key, 1, 4, 4, 2, erase=False)
    mr, _ = work.get_or_create("mr", (2, 6, 6))
    mr.add()
    again, made = work.get_or_create("ct", (3, 8, 8))
    assert again is ct and not made and again.segments[seg.key].mask[1].any()
    assert [(uid, s.key) for uid, s in work.unsaved()] == [("ct", seg.key)]
    with pytest.raises(ValueError, match="drawn on"):
        work.get_or_create("ct", (4, 8, 8))  # a drawn set is never silently replaced


def test_accepted_segments_reload_after_a_restart(db, settings):
    mask = np.zeros((3, 8, 8), np.uint8)
    mask[1, 2:5, 2:5] = 1
    record = SegmentRecord(series_uid="1.2.3", name="liver", color="#ff4040", mask=mask, ai_mask=mask.copy(),
                           engine="litemedsam", model_version_id=None, prompts=[{"slice": 1}])
    accepted = save_decision(db, settings.home, record, "accepted", "dr.who", None)
    save_decision(db, settings.home, SegmentRecord(**{**record.__dict__, "name": "bad"}), "rejected", "dr.who", None)
    from medstation.store.database import Database

    reopened = Database(settings.db_path)  # as after a restart
    try:
        stored = load_stored_segments(reopened, "1.2.3")
    finally:
        reopened.close()
    assert [(s.id, s.name, s.status) for s in stored] == [(accepted, "liver", "accepted")]
    segs = SegmentSet("1.2.3", (3, 8, 8))
    seg = segs.add_stored(stored[0])
    assert seg.status == SegmentStatus.accepted and seg.stored_id == accepted and not seg.unsaved
    assert np.array_equal(seg.mask, mask) and seg.prompts == [{"slice": 1}]
    with pytest.raises(ValueError, match="does not fit"):
        SegmentSet("1.2.3", (4, 8, 8)).add_stored(stored[0])


def test_prompt_and_propagation_entries():
    from medstation.segmentation.engine import MaskPrediction

    pred = MaskPrediction(mask=_square(), score=0.91234, box=(1.0, 2.0, 10.0, 12.0), points=[(5.0, 6.0, 1)],
                          box_margin=2.0)
    assert prompt_entry(7, pred) == {"v": 1, "slice": 7, "box": [1.0, 2.0, 10.0, 12.0], "points": [[5.0, 6.0, 1]],
                                     "box_margin_model_px": 2.0, "score": 0.912, "pixels": 25}
    assert propagation_entry(8, 7) == {"v": 1, "slice": 8, "propagated_from": 7}


def test_implausible_masks_are_flagged():
    hu = np.full((16, 16), 40.0)
    assert mask_flags(_square(), (4, 4, 9, 9), hu, "CT") == []
    tiny = np.zeros((16, 16), bool)
    tiny[5, 5] = True
    assert mask_flags(tiny, (0, 0, 15, 15), hu, "CT") == ["almost empty: the mask fills 0% of its box"]
    air = np.full((16, 16), -950.0)
    assert mask_flags(_square(), (4, 4, 9, 9), air, "CT") == ["mostly air: 100% of the mask is below -500 HU"]
    assert mask_flags(_square(), (4, 4, 9, 9), air, "MR") == []  # no HU outside CT
    assert mask_flags(np.zeros((4, 4), bool), None) == ["empty: the model found nothing here"]
