"""The Qt-free segmentation session: series, prompts, model masks with provenance, strokes, undo/redo, decisions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medstation.segmentation.engine import MaskPrediction
from medstation.segmentation.records import PROMPT_RECORD_VERSION, StoredSegment
from medstation.segmentation.segments import SegmentStatus
from medstation.segmentation.session import STROKE_PAUSE_S, SegmentationSession

SHAPE = (6, 32, 32)


def _square(y0, y1, x0, x1):
    mask = np.zeros(SHAPE[1:], bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _prediction(mask, box=(4.0, 4.0, 20.0, 20.0), points=(), notes=()):
    return MaskPrediction(mask=mask, score=0.876543, box=box, points=list(points), seconds=0.012, notes=notes,
                          model_version="litemedsam:abc")


ENGINE = SimpleNamespace(name="litemedsam", model_version="litemedsam:abc")


@pytest.fixture
def session():
    s = SegmentationSession()
    opened = s.open_series("1.2.3", SHAPE)
    assert opened.made and opened.note is None
    return s


def _stored(id_, name="Liver", shape=SHAPE, status="accepted"):
    mask = np.zeros(shape, np.uint8)
    mask[2, 5:9, 5:9] = 1
    return StoredSegment(id_, "1.2.3", name, "#ff4040", status, mask, mask.copy(), "litemedsam", None,
                         [{"v": 1, "slice": 2}])


def test_a_new_series_gets_one_empty_segment_and_its_drafts_survive_a_switch(session):
    assert list(session.segments.segments) == [session.current_key]
    session.apply_prediction(session.segments, session.current_key, 2, _prediction(_square(5, 15, 5, 15)),
                             engine=ENGINE)
    first = session.segments
    other = session.open_series("9.9.9", SHAPE)
    assert other.made and session.segments is not first
    back = session.open_series("1.2.3", SHAPE)
    assert not back.made and back.segments is first
    assert back.note == "Back on this series: 1 segment(s) kept, 1 unsaved draft(s)."
    assert session.unsaved_work() == ["draft segment 'Segment 1' (series …1.2.3)"]


def test_a_series_whose_shape_changed_keeps_its_drafts_aside(session):
    session.brush(1, 10, 10, 3, False, now=0.0)
    opened = session.open_series("1.2.3", (7, 32, 32))
    assert opened.made and opened.note.startswith("Earlier segments kept aside: this series now has shape")
    assert session.workspace.get("1.2.3").shape == SHAPE  # the drafts are still there


def test_saved_segments_replace_the_empty_default_and_skip_misfits(session):
    segs = session.segments
    blank = session.current_key
    note = session.merge_saved(segs, [_stored(7), _stored(8, "Kidney", shape=(5, 32, 32))])
    assert note == ("Reloaded 1 accepted segment(s) of this series. Not shown (drawn on a different set of "
                    "slices): Kidney.")
    assert blank not in segs.segments and session.current_key in segs.segments
    assert session.current.stored_id == 7 and session.current.status == SegmentStatus.accepted
    assert session.merge_saved(segs, [_stored(7)]) is None  # known already: nothing changes


def test_saved_segments_of_a_series_left_meanwhile_land_quietly(session):
    segs = session.segments
    session.open_series("9.9.9", SHAPE)
    assert session.merge_saved(segs, [_stored(7)]) is None
    assert segs.stored_ids() == {7}


def test_clicks_wait_for_a_box_and_a_box_keeps_them(session):
    first = session.point_prompt(3, 10.0, 11.0, True)
    assert first == {"box": None, "points": [(10.0, 11.0)], "labels": [1]}
    spec = SimpleNamespace(points_alone=False, display_name="LiteMedSAM")
    assert "segments from a box" in session.points_problem(first, spec)
    assert session.points_problem(first, SimpleNamespace(points_alone=True, display_name="X")) is None
    excluded = session.point_prompt(4, 1.0, 1.0, False)
    assert "Exclude points alone" in session.points_problem(excluded, None)
    boxed = session.box_prompt(3, (2.0, 2.0, 20.0, 20.0))
    assert boxed == {"box": (2.0, 2.0, 20.0, 20.0), "points": [(10.0, 11.0)], "labels": [1]}
    assert session.points_problem(boxed, spec) is None
    assert session.prompt(3) == boxed and session.prompt(2) is None  # a prompt belongs to its slice


def test_a_refused_box_is_dropped_so_the_next_clicks_are_not_poisoned(session):
    box = (2.0, 2.0, 20.0, 20.0)
    session.point_prompt(3, 10.0, 11.0, True)
    session.box_prompt(3, box)
    assert not session.drop_refused_box(session.segments, session.current_key, 3, (0.0, 0.0, 1.0, 1.0))
    assert session.drop_refused_box(session.segments, session.current_key, 3, box)
    assert session.prompt(3) == {"box": None, "points": [(10.0, 11.0)], "labels": [1]}


def test_apply_prediction_lands_mask_prompt_and_provenance_as_one_step(session):
    key, mask = session.current_key, _square(5, 15, 5, 15)
    prompt = session.box_prompt(2, (4.0, 4.0, 20.0, 20.0))
    note = session.apply_prediction(session.segments, key, 2, _prediction(mask), prompt=prompt, engine=ENGINE,
                                    pixels=np.full(SHAPE[1:], 100.0), modality="CT")
    seg = session.current
    assert note == "Mask on slice 3: 100 px in 12 ms (DRAFT)"
    assert np.array_equal(seg.mask[2].astype(bool), mask) and np.array_equal(seg.ai_mask[2].astype(bool), mask)
    assert (seg.engine, seg.model_version, seg.status) == ("litemedsam", "litemedsam:abc", SegmentStatus.draft)
    [entry] = seg.prompts
    assert entry["v"] == PROMPT_RECORD_VERSION and entry["slice"] == 2 and entry["score"] == 0.877
    assert entry["pixels"] == 100 and entry["box"] == [4.0, 4.0, 20.0, 20.0] and entry["model"] == "litemedsam:abc"
    assert session.last_prediction.mask is mask
    text, changed = session.undo()
    assert changed and text == "Undid model on slice 3. Segment 1 is now a DRAFT (not saved); its mask is empty."
    assert not seg.mask.any() and session.prompt(2) is None  # the prompt went back with the mask
    session.redo()
    assert seg.mask[2].any() and session.prompt(2) == prompt


def test_a_blind_pick_names_its_version_in_the_same_record(session):
    session.apply_prediction(session.segments, session.current_key, 1, _prediction(_square(5, 15, 5, 15)),
                             provenance={"model_version_id": 4, "preference_id": 9, "blind_order": ["b", "a"]})
    [entry] = session.current.prompts
    assert (entry["model_version_id"], entry["preference_id"], entry["blind_order"]) == (4, 9, ["b", "a"])
    assert entry["slice"] == 1 and "score" in entry


def test_an_empty_or_implausible_mask_is_said_plainly(session):
    empty = session.apply_prediction(session.segments, session.current_key, 1,
                                     _prediction(np.zeros(SHAPE[1:], bool)))
    assert empty == "EMPTY mask: the model found nothing here."
    air = session.apply_prediction(session.segments, session.current_key, 1,
                                   _prediction(_square(5, 15, 5, 15), notes=("click 1 added 3 px",)),
                                   pixels=np.full(SHAPE[1:], -1000.0), modality="CT")
    assert air == ("FLAGGED mask on slice 2: mostly air: 100% of the mask is below -500 HU. Check it, redraw or "
                   "erase it (DRAFT). Clicks: click 1 added 3 px.")
    assert session.current.flags == ["mostly air: 100% of the mask is below -500 HU"]


def test_a_mask_for_a_removed_segment_or_another_series_is_not_shown(session):
    segs, key = session.segments, session.current_key
    session.add_segment()
    session.select(key)
    session.remove_current()
    assert session.apply_prediction(segs, key, 1, _prediction(_square(5, 15, 5, 15))) is None
    other_key = session.current_key
    session.open_series("9.9.9", SHAPE)
    assert session.apply_prediction(segs, other_key, 1, _prediction(_square(5, 15, 5, 15))) is None
    assert segs.segments[other_key].mask[1].any()  # applied to its own series all the same


def test_propagated_slices_are_one_undo_step_with_their_start_slice_recorded(session):
    segs, key = session.segments, session.current_key
    assert not session.apply_propagated(segs, key, 2, "propagate-1", 2, _square(1, 5, 1, 5))  # the start itself
    for index in (3, 4):
        assert session.apply_propagated(segs, key, 2, "propagate-1", index, _square(1, 5, 1, 5))
    assert [p["propagated_from"] for p in session.current.prompts] == [2, 2]
    text, _ = session.undo()
    assert text.startswith("Undid propagation on 2 slices.") and not session.current.mask.any()


def test_strokes_split_at_a_pause_and_undo_one_stroke_at_a_time(session):
    dabs = [session.brush(1, x, 10, 2, False, now=t) for x, t in ((5, 0.0), (9, 0.1), (13, 0.2))]
    assert all(d.changed for d in dabs) and not any(d.status_changed for d in dabs)
    session.brush(1, 25, 25, 2, False, now=0.2 + STROKE_PAUSE_S + 0.1)  # a pause: a second stroke
    mask = session.current.mask[1]
    assert mask[10, 7]  # the gap between two fast dabs is painted too
    session.undo()
    assert not mask[25, 25] and mask[10, 5]
    session.undo()
    assert not mask.any()
    assert session.undo() == ("Nothing to undo.", False)


def test_a_brush_on_an_accepted_segment_makes_it_a_draft(session):
    session.brush(1, 10, 10, 2, False, now=0.0)
    SegmentationSession.mark_decided(session.current, {"id": 3, "decision": "accepted"})
    dab = session.brush(1, 20, 20, 2, False, now=5.0)
    assert dab.status_changed and session.current.status == SegmentStatus.draft


def test_removal_is_undoable_and_the_set_keeps_a_segment(session):
    first = session.current_key
    text = session.remove_current()
    assert text == "Removed 'Segment 1'. Undo (Ctrl+Z) brings it back."
    assert first not in session.segments.segments and len(session.segments.segments) == 1
    session.undo()
    assert session.current_key == first


def test_decisions_record_the_segment_and_take_back_the_store_answer(session):
    assert session.decision_problem("accepted") == "Segment 1 is empty: draw or segment something before accepting it."
    assert session.decision_problem("rejected") is None
    session.apply_prediction(session.segments, session.current_key, 2, _prediction(_square(5, 15, 5, 15)),
                             engine=ENGINE)
    record = session.record(model_version_id=5)
    assert (record.series_uid, record.name, record.model_version_id, record.engine) == ("1.2.3", "Segment 1", 5,
                                                                                         "litemedsam")
    assert record.mask is not session.current.mask and len(record.prompts) == 1
    session.rename(session.current_key, "Liver")  # renamed while the decision was being saved
    note, renamed = session.mark_decided(session.current, {"id": 11, "decision": "accepted"}, saved_name=record.name)
    assert note == "Liver: accepted and saved (#11)." and renamed
    assert session.current.stored_id == 11 and session.current.status == SegmentStatus.accepted
    assert session.unsaved_work() == []
    # drawn but not measured yet (the measurement waits for a pause in editing): 7d7286b said 'empty mask'
    assert session.report(None) == "[ACCEPTED] Segment 'Liver': measuring…"
    problem, store = session.rename(session.current_key, "  ")
    assert problem == "a segment needs a name" and not store
    assert session.rename(session.current_key, "Spleen") == (None, True)  # a saved segment's name is stored


def test_export_numbers_the_drawn_segments_and_marks_drafts(session):
    session.brush(1, 10, 10, 2, False, now=0.0)
    session.add_segment()  # empty: not exported
    third = session.add_segment()
    session.brush(2, 20, 20, 2, False, now=10.0)
    SegmentationSession.mark_decided(third, {"id": 1, "decision": "accepted"})
    items = session.export_items()
    assert [(i.number, i.name, i.draft, i.algorithm) for i in items] == [
        (1, "Segment 1", True, "manual"), (2, "Segment 3", False, "manual")]


def test_drafts_drawn_after_a_shape_change_are_kept_beside_the_old_ones(session):
    """7d7286b drew on a set nobody kept: closing did not list its drafts and a switch back lost them."""
    session.brush(1, 10, 10, 3, False, now=0.0)
    session.open_series("1.2.3", (7, 32, 32))
    session.brush(1, 20, 20, 3, False, now=1.0)
    drawn = session.current.mask.copy()
    assert len(session.unsaved_work()) == 2
    session.open_series("9.9.9", SHAPE)
    back = session.open_series("1.2.3", (7, 32, 32))
    assert not back.made and np.array_equal(session.current.mask, drawn)
    assert session.open_series("1.2.3", SHAPE).segments.shape == SHAPE  # the old slices' drafts are there too


def test_the_report_of_an_empty_segment_says_it_is_empty(session):
    assert session.report(None) == "[DRAFT] Segment 'Segment 1': empty mask, nothing measured."
