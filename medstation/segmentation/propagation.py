"""Propagate a 2D mask through a volume, slice by slice, as a job.

Each next slice is prompted with the bounding box of the previous slice's mask,
expanded by a margin (an organ grows or shrinks between slices). Going up
(k+1, k+2, …) and down (k-1, …) from the start slice, a direction stops when
the mask vanishes or becomes tiny (below ``min_area_px`` or ``min_area_fraction``
of the start mask), when its mean intensity leaves the start mask's (SAM always
finds *something* in a box: past the end of an organ it outlines neighbouring
tissue, which shows as a jump in intensity), or at the volume's end. Re-propagating from a corrected slice
is the same call with that slice as the start.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medstation.jobs import JobContext

# box (x0, y0, x1, y1) in pixel coordinates, x = column, y = row
Box = tuple[float, float, float, float]


def mask_box(mask2d: np.ndarray, margin_px: float = 0.0) -> Box | None:
    """Bounding box (x0, y0, x1, y1) of a (y, x) mask, grown by ``margin_px`` and clipped; None if empty."""
    rows = np.flatnonzero(mask2d.any(axis=1))
    cols = np.flatnonzero(mask2d.any(axis=0))
    if rows.size == 0:
        return None
    h, w = mask2d.shape
    return (
        max(0.0, cols[0] - margin_px), max(0.0, rows[0] - margin_px),
        min(w - 1.0, cols[-1] + margin_px), min(h - 1.0, rows[-1] + margin_px),
    )


def propagate(
    ctx: JobContext,
    predict: Callable[[int, Box], np.ndarray],
    n_slices: int,
    start_index: int,
    start_mask: np.ndarray,
    *,
    margin_px: float = 3.0,
    margin_fraction: float = 0.05,
    min_area_px: int = 10,
    min_area_fraction: float = 0.02,
    directions: tuple[str, ...] = ("up", "down"),
    image: Callable[[int], np.ndarray] | None = None,
    max_mean_shift: float = 0.1,
) -> dict[int, np.ndarray]:
    """Job: returns {slice index: bool (y, x) mask} for the start slice and every slice reached.

    ``predict(k, box)`` → bool (y, x) mask on slice k. Streams ``ctx.partial((k, mask))``
    per slice (the start slice first) and checks for cancellation before each slice.
    The box margin is ``max(margin_px, margin_fraction * box side)``. With ``image(k)``
    (the slice as the model saw it, windowed to [0, 1]) a slice whose mask mean differs
    from the start mask's by more than ``max(max_mean_shift, 2 × start SD)`` ends the direction.
    """
    start_mask = np.asarray(start_mask, bool)
    start_area = int(start_mask.sum())
    if start_area == 0:
        raise ValueError("the start slice has an empty mask: nothing to propagate")
    if not 0 <= start_index < n_slices:
        raise IndexError(f"start slice {start_index} outside 0..{n_slices - 1}")
    floor = max(min_area_px, int(min_area_fraction * start_area))
    reference = None
    if image is not None:
        start_values = np.asarray(image(start_index), np.float32)[start_mask]
        reference = (float(start_values.mean()), max(max_mean_shift, 2.0 * float(start_values.std())))
    result = {start_index: start_mask}
    ctx.partial((start_index, start_mask))
    steps = {"up": 1, "down": -1}
    total = max(1, sum((n_slices - 1 - start_index) if d == "up" else start_index for d in directions))
    visited = 0
    for direction in directions:
        step = steps[direction]
        previous = start_mask
        index = start_index + step
        while 0 <= index < n_slices:
            ctx.check()
            x0, y0, x1, y1 = mask_box(previous)  # previous is never empty here
            margin = max(margin_px, margin_fraction * max(x1 - x0, y1 - y0))
            box = mask_box(previous, margin)
            mask = np.asarray(predict(index, box), bool)
            visited += 1
            ctx.report(visited / total, f"slice {index + 1}: {int(mask.sum())} px")
            if int(mask.sum()) < floor:
                break
            if reference is not None and abs(float(np.asarray(image(index))[mask].mean()) - reference[0]) > reference[1]:
                break
            result[index] = mask
            ctx.partial((index, mask))
            previous = mask
            index += step
    ctx.report(1.0, f"propagated over {len(result)} slices")
    return result


def stack_masks(masks: dict[int, np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """{slice: (y, x) mask} → uint8 (z, y, x) volume (0/1)."""
    volume = np.zeros(shape, np.uint8)
    for index, mask in masks.items():
        volume[index] = np.asarray(mask, bool)
    return volume
