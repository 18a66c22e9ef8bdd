"""Propagation through a volume: mechanics with a deterministic engine double, then the real model."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.jobs import Cancelled, JobContext
from medstation.segmentation import metrics
from medstation.segmentation.cache import EmbeddingCache
from medstation.segmentation.propagation import mask_box, propagate, stack_masks
from medstation.segmentation.slices import VolumeSegmenter
from tests.seg_support import engine, synthetic_volume


def threshold_double(volume, level=20.0, calls=None):
    """Engine double: inside the box, voxels brighter than ``level`` HU. Records the boxes it got."""

    def predict(index, box):
        if calls is not None:
            calls.append((index, box))
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        out = np.zeros(volume.pixels.shape[1:], bool)
        out[y0:y1 + 1, x0:x1 + 1] = volume.pixels[index, y0:y1 + 1, x0:x1 + 1] > level
        return out

    return predict


def test_mask_box_with_margin_is_clipped():
    m = np.zeros((10, 20), bool)
    m[2:5, 15:19] = True
    assert mask_box(m) == (15, 2, 18, 4)
    assert mask_box(m, 3) == (12, 0, 19, 7)
    assert mask_box(np.zeros((4, 4), bool)) is None


def test_propagates_both_ways_and_stops_where_the_object_ends():
    volume, truth = synthetic_volume(shape=(11, 80, 96), radii_mm=(7.0, 18.0, 24.0), noise=2.0)
    start = 5
    partials, calls = [], []
    ctx = JobContext(on_partial=partials.append)
    masks = propagate(ctx, threshold_double(volume, calls=calls), 11, start, truth[start].astype(bool))
    expected = {k for k in range(11) if truth[k].any()}
    assert set(masks) == expected
    assert partials[0][0] == start and {k for k, _ in partials} == expected
    assert metrics.dice(stack_masks(masks, truth.shape), truth) > 0.97
    # the slice after the last one with the object was tried once and then the direction stopped
    tried = [k for k, _ in calls]
    assert max(tried) == max(expected) + 1 and min(tried) == min(expected) - 1
    assert ctx.fraction == 1.0


def test_each_box_comes_from_the_previous_slice_mask():
    volume, truth = synthetic_volume(shape=(5, 64, 64), radii_mm=(5.0, 15.0, 15.0), noise=1.0)
    calls = []
    masks = propagate(JobContext(), threshold_double(volume, calls=calls), 5, 2, truth[2].astype(bool),
                      margin_px=4, margin_fraction=0.0, directions=("up",))
    index, box = calls[0]
    x0, y0, x1, y1 = mask_box(truth[2].astype(bool))
    assert index == 3 and box == (x0 - 4, y0 - 4, x1 + 4, y1 + 4)
    assert min(masks) == 2  # "up" only


def test_cancel_stops_between_slices():
    volume, truth = synthetic_volume(shape=(9, 48, 48), radii_mm=(9.0, 12.0, 12.0))
    ctx = JobContext()
    seen = []

    def predict(index, box):
        seen.append(index)
        if len(seen) == 2:
            ctx.cancel()
        return truth[index].astype(bool)

    with pytest.raises(Cancelled):
        propagate(ctx, predict, 9, 4, truth[4].astype(bool))
    assert len(seen) == 2


def test_intensity_jump_ends_a_direction():
    """Past the object a box-prompted model still outlines something; a jump in intensity stops it."""
    volume, truth = synthetic_volume(shape=(5, 40, 40), radii_mm=(3.0, 10.0, 10.0), noise=1.0)
    always_blob = np.zeros((40, 40), bool)
    always_blob[14:26, 14:26] = True
    image = lambda k: (volume.pixels[k] + 100.0) / 300.0  # noqa: E731 - a fixed window
    masks = propagate(JobContext(), lambda k, box: always_blob, 5, 2, always_blob, image=image)
    assert set(masks) == {k for k in range(5) if truth[k].any()} == {1, 2, 3}


def test_empty_start_is_refused():
    with pytest.raises(ValueError, match="empty"):
        propagate(JobContext(), lambda k, b: None, 3, 1, np.zeros((4, 4), bool))


def test_real_litemedsam_follows_an_ellipsoid():
    volume, truth = synthetic_volume(shape=(7, 96, 128), radii_mm=(5.0, 22.0, 30.0), noise=8.0)
    segmenter = VolumeSegmenter(engine(), volume, EmbeddingCache(16))
    start = 3
    first = segmenter.predict(start, box=mask_box(truth[start].astype(bool), 4))
    assert metrics.dice(first.mask, truth[start]) > 0.85
    masks = propagate(JobContext(), segmenter.predict_mask, 7, start, first.mask, image=segmenter.slice_image)
    assert {2, 3, 4} <= set(masks) <= {1, 2, 3, 4, 5}
    assert 0 not in masks and 6 not in masks  # no object there: the direction stopped
    assert metrics.dice(stack_masks(masks, truth.shape), truth) > 0.8
