"""In-plane measurements on a 2D slice, in physical units.

Pixel coordinates are continuous: pixel (row r, column c) covers
``[c, c + 1) × [r, r + 1)``; ``spacing_rc = (row step, column step)`` in mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def distance_mm(p0_xy: tuple[float, float], p1_xy: tuple[float, float], spacing_rc: tuple[float, float]) -> float:
    """Length in mm of the segment between two (x=column, y=row) pixel points."""
    dy_mm = (p1_xy[1] - p0_xy[1]) * spacing_rc[0]
    dx_mm = (p1_xy[0] - p0_xy[0]) * spacing_rc[1]
    return float(np.hypot(dx_mm, dy_mm))


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels whose centres lie inside a rectangle; values in modality units (HU for CT)."""

    n_pixels: int
    mean: float
    sd: float
    minimum: float
    maximum: float
    area_mm2: float

    def text(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        return (
            f"mean {self.mean:.1f}{u}  SD {self.sd:.1f}  min {self.minimum:.0f}  max {self.maximum:.0f}  "
            f"area {self.area_mm2:.1f} mm²  ({self.n_pixels} px)"
        )


def roi_stats(image: np.ndarray, x0: float, y0: float, x1: float, y1: float, spacing_rc: tuple[float, float]) -> RoiStats | None:
    """Stats of ``image[rows, columns]`` inside the rectangle with corners (x0, y0), (x1, y1) in pixel coordinates.

    Returns None when no pixel centre falls inside. Area = pixel count × row step × column step.
    """
    xa, xb = sorted((x0, x1))
    ya, yb = sorted((y0, y1))
    # Pixel c's centre is c + 0.5: inside when xa <= c + 0.5 <= xb.
    c0, c1 = max(0, int(np.ceil(xa - 0.5))), min(image.shape[1] - 1, int(np.floor(xb - 0.5)))
    r0, r1 = max(0, int(np.ceil(ya - 0.5))), min(image.shape[0] - 1, int(np.floor(yb - 0.5)))
    if c1 < c0 or r1 < r0:
        return None
    patch = np.asarray(image[r0 : r1 + 1, c0 : c1 + 1], dtype=np.float64)
    return RoiStats(
        n_pixels=int(patch.size),
        mean=float(patch.mean()),
        sd=float(patch.std(ddof=1)) if patch.size > 1 else 0.0,
        minimum=float(patch.min()),
        maximum=float(patch.max()),
        area_mm2=float(patch.size * spacing_rc[0] * spacing_rc[1]),
    )
