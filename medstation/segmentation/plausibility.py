"""Is a model mask plausible for the box that asked for it? Flags, not silent drafts.

SAM-style models always return *something*. Two failures are common enough to
catch cheaply: a mask that fills almost none of its box (the model found no
object) and, in CT, a mask made mostly of air (the box was drawn over the lung
or outside the body). A flagged mask is still shown, marked as such, so the user
decides instead of keeping it as a normal draft unawares.

A refinement (clicks on a box's mask) is also compared with the mask it refined:
a click that takes away most of the mask, or (CT) shifts its mean by more than
:data:`MAX_MEAN_HU_SHIFT`, has most likely swapped the organ for its surroundings
(a liver mask of 19,183 px at 87 HU becoming 5,220 px of wall and air at -237 HU).
"""

from __future__ import annotations

import numpy as np

MIN_BOX_FILL = 0.05  # mask pixels / box pixels below this: "almost empty"
AIR_HU = -500.0  # CT values below this are air (lung parenchyma is about -850, fat about -100)
MAX_AIR_FRACTION = 0.5
MIN_KEPT_AREA = 0.5  # a refinement leaving less than this share of the mask's area "lost most of it"
# Soft-tissue organs differ from each other by tens of HU (liver ~60, spleen ~45, muscle ~50) and from fat
# (~-100) or air (-1000) by more: a mean moving by over 100 HU no longer describes the same tissue.
MAX_MEAN_HU_SHIFT = 100.0


def mask_flags(mask2d: np.ndarray, box, pixels2d: np.ndarray | None = None, modality: str = "") -> list[str]:
    """Warnings (plain sentences) for a (y, x) bool mask made from ``box`` (x0, y0, x1, y1 pixels, or None).

    ``pixels2d``: the slice in modality units (HU for CT), used for the air check.
    An empty list means nothing implausible was found.
    """
    mask = np.asarray(mask2d, bool)
    area = int(mask.sum())
    flags: list[str] = []
    if area == 0:
        return ["empty: the model found nothing here"]
    if box is not None:
        x0, y0, x1, y1 = (float(v) for v in box)
        box_area = max(1.0, (x1 - x0) * (y1 - y0))
        fill = area / box_area
        if fill < MIN_BOX_FILL:
            flags.append(f"almost empty: the mask fills {fill:.0%} of its box")
    if pixels2d is not None and str(modality).upper() == "CT":
        air = float(np.mean(np.asarray(pixels2d)[mask] < AIR_HU))
        if air > MAX_AIR_FRACTION:
            flags.append(f"mostly air: {air:.0%} of the mask is below {AIR_HU:.0f} HU")
    return flags


def refinement_flags(before2d: np.ndarray, after2d: np.ndarray, pixels2d: np.ndarray | None = None,
                     modality: str = "") -> list[str]:
    """Warnings for a refined (y, x) mask ``after2d`` compared with the mask ``before2d`` it refined.

    ``pixels2d``: the slice in modality units; the mean-value check runs for CT (HU) only.
    """
    before, after = np.asarray(before2d, bool), np.asarray(after2d, bool)
    n_before, n_after = int(before.sum()), int(after.sum())
    flags: list[str] = []
    if n_before == 0:
        return flags
    if n_after < MIN_KEPT_AREA * n_before:
        flags.append(f"lost most of its area: {n_before:,} px before the refinement, {n_after:,} px after")
    if pixels2d is not None and str(modality).upper() == "CT" and n_after:
        values = np.asarray(pixels2d, float)
        mean_before, mean_after = float(values[before].mean()), float(values[after].mean())
        if abs(mean_after - mean_before) > MAX_MEAN_HU_SHIFT:
            flags.append(f"mean changed sharply: {mean_before:.0f} HU before the refinement, {mean_after:.0f} HU after")
    return flags
