"""The in-memory image volume every consumer (viewer, segmentation, export) shares.

Coordinate conventions (DICOM patient space, LPS, millimetres):

* ``pixels[z, y, x]``: z = slice index along the slice normal, y = row, x = column.
* ``spacing = (dz, dy, dx)`` in mm, in the same (z, y, x) order as ``pixels``.
* ``origin = (X, Y, Z)`` patient mm of the centre of voxel (0, 0, 0).
* ``direction[:, 0]`` / ``[:, 1]`` / ``[:, 2]``: patient-space unit vectors along
  increasing column (x), row (y) and slice (z) index.

So the patient position of voxel (z, y, x) is
``origin + direction @ (x * dx, y * dy, z * dz)`` (see :meth:`Volume.voxel_to_patient`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Volume:
    """A loaded series: float32 pixels (HU for CT) plus the geometry to place them in the patient."""

    pixels: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    modality: str
    series_uid: str
    study_uid: str
    sop_uids: list[str]
    source_paths: list[str]
    window: tuple[float, float] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(z, y, x) voxel counts."""
        return tuple(int(n) for n in self.pixels.shape)  # type: ignore[return-value]

    def voxel_to_patient(self, z: float, y: float, x: float) -> np.ndarray:
        """Patient-space position (X, Y, Z) in mm of the (possibly fractional) voxel index (z, y, x)."""
        dz, dy, dx = self.spacing
        offset = np.asarray(self.direction, dtype=float) @ np.array([x * dx, y * dy, z * dz])
        return np.asarray(self.origin, dtype=float) + offset
