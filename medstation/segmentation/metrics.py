"""Overlap and boundary metrics between two binary masks of the same (H, W) grid.

NSD (normalised surface Dice, Nikolov et al. 2021) at a tolerance in pixels: the
fraction of both masks' boundary pixels lying within ``tolerance`` of the other
mask's boundary. Boundaries are the mask pixels with a 4-connected background
neighbour; distances are Euclidean, from ``scipy.ndimage.distance_transform_edt``.
"""

from __future__ import annotations

import numpy as np


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """2|P∩T| / (|P|+|T|); 1.0 when both are empty."""
    p, t = np.asarray(pred, bool), np.asarray(truth, bool)
    total = int(p.sum()) + int(t.sum())
    return 1.0 if total == 0 else 2.0 * int((p & t).sum()) / total


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """|P∩T| / |P∪T|; 1.0 when both are empty."""
    p, t = np.asarray(pred, bool), np.asarray(truth, bool)
    union = int((p | t).sum())
    return 1.0 if union == 0 else int((p & t).sum()) / union


def boundary(mask: np.ndarray) -> np.ndarray:
    """Bool (H, W): mask pixels that touch background (4-connectivity, image edge counts as background)."""
    from scipy import ndimage  # lazy: importing SciPy (about 1 s) stays off the window's start-up path

    m = np.asarray(mask, bool)
    eroded = ndimage.binary_erosion(m, structure=ndimage.generate_binary_structure(2, 1), border_value=0)
    return m & ~eroded


def normalized_surface_dice(pred: np.ndarray, truth: np.ndarray, tolerance: float = 2.0) -> float:
    """NSD in [0, 1] at ``tolerance`` pixels; 1.0 when both are empty, 0.0 when exactly one is."""
    from scipy import ndimage  # lazy: importing SciPy (about 1 s) stays off the window's start-up path

    bp, bt = boundary(pred), boundary(truth)
    n_p, n_t = int(bp.sum()), int(bt.sum())
    if n_p == 0 and n_t == 0:
        return 1.0
    if n_p == 0 or n_t == 0:
        return 0.0
    # distance from every pixel to the nearest boundary pixel of the other mask
    dist_to_t = ndimage.distance_transform_edt(~bt)
    dist_to_p = ndimage.distance_transform_edt(~bp)
    close_p = int((dist_to_t[bp] <= tolerance).sum())
    close_t = int((dist_to_p[bt] <= tolerance).sum())
    return (close_p + close_t) / (n_p + n_t)
