"""Is a model mask plausible for the box that asked for it? Flags, not silent drafts.

SAM-style models always return *something*. Two failures are common enough to
catch cheaply: a mask that fills almost none of its box (the model found no
object) and, in CT, a mask made mostly of air (the box was drawn over the lung
or outside the body). A flagged mask is still shown, marked as such, so the user
decides instead of keeping it as a normal draft unawares.
"""

from __future__ import annotations

import numpy as np

MIN_BOX_FILL = 0.05  # mask pixels / box pixels below this: "almost empty"
AIR_HU = -500.0  # CT values below this are air (lung parenchyma is about -850, fat about -100)
MAX_AIR_FRACTION = 0.5


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
