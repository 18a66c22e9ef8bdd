"""Click refinement changes only the clicked region, never most of the mask; the plausibility check
flags a refinement that swapped the organ for its surroundings; prompts undo with their masks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medstation.segmentation.plausibility import refinement_flags
from medstation.segmentation.refine import MAX_CLICK_LOSS, Click, clicks_from, prompt_mask, refine
from medstation.segmentation.segments import SegmentSet

H, W = 80, 100


def disk(cy, cx, r):
    yy, xx = np.mgrid[:H, :W]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


class ScriptedModel:
    """A stand-in decoder: the mask for a prompt comes from ``answer(box, points, labels)``; calls are kept."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def __call__(self, box=None, points=None, labels=None):
        self.calls.append((box, points, labels))
        mask = self.answer(box, points, labels)
        return SimpleNamespace(mask=mask, score=0.9, box=box, box_margin=0.0, seconds=0.001)


def test_exclude_in_a_separate_piece_removes_that_piece_only():
    main, stray = disk(40, 40, 15), disk(10, 85, 4)
    model = ScriptedModel(lambda box, p, lab: main | stray)
    result = refine(model, (20, 5, 95, 60), [Click(85, 10, False)], (H, W))
    assert np.array_equal(result.mask, main) and "separate piece" in result.notes[0]
    assert len(model.calls) == 1  # no model call needed: the box mask alone


def test_exclude_near_the_edge_of_a_second_large_piece_trims_it_instead_of_removing_it():
    left, right = disk(40, 25, 18), disk(40, 75, 16)  # two lungs: two big pieces
    notch = disk(40, 62, 5)

    def answer(box, points, labels):
        return (left | right) & ~notch if points else left | right

    result = refine(ScriptedModel(answer), (5, 20, 95, 60), [Click(62, 40, False)], (H, W))
    removed = (left | right) & ~result.mask
    assert not result.mask[40, 62] and "around the click" in result.notes[0]
    assert not (removed & ~notch).any() and result.mask[right].sum() > 0.8 * right.sum()


def test_exclude_removes_only_the_region_at_the_click_not_stripes_elsewhere():
    organ = disk(40, 45, 25)
    leak = organ & (np.mgrid[:H, :W][1] > 62)  # the right-hand tip is a leak into a neighbour
    stripes = np.zeros((H, W), bool)
    stripes[::6] = True  # the model's answer to an exclude point also carves rows of holes everywhere

    def answer(box, points, labels):
        if points:  # box + exclude point
            return organ & ~leak & ~stripes
        return organ

    result = refine(ScriptedModel(answer), (18, 13, 72, 67), [Click(66, 40, False)], (H, W))
    assert not result.mask[40, 66]  # the clicked region went...
    assert result.mask[leak].sum() < 0.7 * leak.sum()  # the part within the click's reach (its depth)
    assert np.array_equal(result.mask[~leak], organ[~leak])  # ...and nothing away from it changed


def test_a_click_never_takes_most_of_the_mask():
    organ = disk(40, 50, 25)
    wall = disk(40, 32, 6)  # the model's answer keeps a small piece and drops the rest, for every box
    result = refine(ScriptedModel(lambda box, p, lab: organ if not p and box == (25, 15, 75, 65) else wall),
                    (25, 15, 75, 65), [Click(50, 40, False)], (H, W))  # a click deep inside: a long reach
    assert np.array_equal(result.mask, organ) and "no safe way" in result.notes[0]
    assert 1 - wall.sum() / organ.sum() > MAX_CLICK_LOSS


def test_include_outside_the_box_grows_it_and_adds_the_clicked_region():
    organ = disk(40, 45, 20)

    def answer(box, points, labels):
        x0, y0, x1, y1 = box
        inside = np.zeros((H, W), bool)
        inside[int(y0):int(y1) + 1, int(x0):int(x1) + 1] = True
        return organ & inside  # the model follows the box

    box = (25, 20, 50, 60)  # cuts the organ at x = 50
    result = refine(ScriptedModel(answer), box, [Click(62, 40, True)], (H, W))
    assert result.mask[40, 62] and result.mask.sum() > result.box_mask.sum()
    assert not (result.mask & ~organ).any()  # only organ pixels were added


def test_prompt_mask_is_the_plain_decode_without_clicks_and_records_the_refinement_with_them():
    organ, stray = disk(40, 40, 15), disk(10, 85, 4)
    model = ScriptedModel(lambda box, p, lab: organ | stray)
    plain = prompt_mask(model, (H, W), box=(20, 5, 95, 60))
    assert np.array_equal(plain.mask, organ | stray)
    refined = prompt_mask(model, (H, W), box=(20, 5, 95, 60), points=[(85, 10)], labels=[0])
    assert np.array_equal(refined.mask, organ) and refined.refinement and refined.points == [(85.0, 10.0, 0)]
    record = refined.prompt_record()
    assert record["refinement"] == refined.refinement and record["points"] == [[85.0, 10.0, 0]]
    assert clicks_from([(1, 2), (3, 4)], [1, 0]) == [Click(1, 2, True), Click(3, 4, False)]


def liver_example():
    """The reported case: 19,183 px at mean 87 HU → 5,220 px of abdominal wall and air at mean -237 HU."""
    pixels = np.full((256, 256), 40.0)  # abdominal wall / muscle
    before = np.zeros((256, 256), bool)
    before.ravel()[:19183] = True
    pixels[before] = 87.0
    after = np.zeros((256, 256), bool)
    after.ravel()[30000:35220] = True
    air = np.zeros((256, 256), bool)
    air.ravel()[30000:31390] = True
    pixels[air] = -1000.0
    return before, after, pixels


def test_liver_mask_turned_into_wall_and_air_is_flagged():
    before, after, pixels = liver_example()
    assert before.sum() == 19183 and after.sum() == 5220
    assert round(pixels[before].mean()) == 87 and round(pixels[after].mean()) == -237
    flags = refinement_flags(before, after, pixels, "CT")
    assert any("lost most of its area" in f for f in flags)
    assert any("mean changed sharply" in f and "-237 HU" in f for f in flags)


def test_a_modest_refinement_is_not_flagged():
    before, _after, pixels = liver_example()
    trimmed = before.copy()
    trimmed.ravel()[:2000] = False  # a 10 % trim of the same tissue
    assert refinement_flags(before, trimmed, pixels, "CT") == []
    assert refinement_flags(before, trimmed, None, "MR") == []


def test_undo_and_redo_bring_back_the_prompt_with_the_mask():
    segs = SegmentSet("1.2.3", (3, H, W))
    key = segs.add().key
    box_prompt = {"box": (10, 10, 60, 60), "points": [], "labels": []}
    segs.set_slice(key, 1, disk(30, 30, 10), label="model", from_model=True, prompt=box_prompt)
    clicked = {"box": (10, 10, 60, 60), "points": [(33.0, 30.0)], "labels": [0]}
    segs.set_prompt(key, 1, clicked)  # the click is shown at once; its mask lands later
    segs.set_slice(key, 1, disk(30, 30, 6), label="model", from_model=True, prompt=clicked)
    assert segs.prompt(key, 1) == clicked and segs.prompt(key, 0) is None  # prompts belong to their slice
    segs.undo()
    assert segs.prompt(key, 1) == box_prompt and segs.segments[key].mask[1].sum() == disk(30, 30, 10).sum()
    segs.undo()
    assert segs.prompt(key, 1) is None and not segs.segments[key].mask.any()
    segs.redo()
    segs.redo()
    assert segs.prompt(key, 1) == clicked and segs.segments[key].mask[1].sum() == disk(30, 30, 6).sum()


def test_a_click_that_leaves_the_mask_unchanged_is_still_one_undo_step():
    segs = SegmentSet("1.2.3", (1, H, W))
    key = segs.add().key
    first = {"box": (10, 10, 60, 60), "points": [], "labels": []}
    mask = disk(30, 30, 10)
    segs.set_slice(key, 0, mask, label="model", from_model=True, prompt=first)
    again = {**first, "points": [(30.0, 30.0)], "labels": [1]}  # an include click already inside
    segs.set_slice(key, 0, mask, label="model", from_model=True, prompt=again)
    segs.undo()
    assert segs.prompt(key, 0) == first and np.array_equal(segs.segments[key].mask[0], mask)


@pytest.mark.parametrize("brush_after", [True, False])
def test_a_brush_edit_keeps_the_prompt(brush_after):
    segs = SegmentSet("1.2.3", (1, H, W))
    key = segs.add().key
    first = {"box": (10, 10, 60, 60), "points": [], "labels": []}
    segs.set_slice(key, 0, disk(30, 30, 10), label="model", from_model=True, prompt=first)
    if brush_after:
        segs.brush(key, 0, 70.0, 70.0, 3.0, False, stroke=1)
        segs.undo()
    assert segs.prompt(key, 0) == first
