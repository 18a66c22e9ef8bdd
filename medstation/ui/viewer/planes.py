"""The three MPR planes as index arithmetic on a (z, y, x) volume (no Qt).

For each plane, the displayed 2D image has rows and columns taken from two
volume axes; ``spacing_rc`` gives their mm steps, so the view can show the
image with its true aspect ratio.

* axial: slice axis z; image = ``pixels[k]`` (rows = y, columns = x)
* coronal: slice axis y; image = ``pixels[:, k, :]`` (rows = z, columns = x)
* sagittal: slice axis x; image = ``pixels[:, :, k]`` (rows = z, columns = y)
"""

from __future__ import annotations

import numpy as np

PLANES = ("axial", "coronal", "sagittal")
EDGES = ("left", "right", "top", "bottom")
_SLICE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}
_ROW_COL_AXES = {"axial": (1, 2), "coronal": (0, 2), "sagittal": (0, 1)}


def slice_axis(plane: str) -> int:
    return _SLICE_AXIS[plane]


def n_slices(plane: str, shape: tuple[int, int, int]) -> int:
    return int(shape[_SLICE_AXIS[plane]])


def plane_image(pixels: np.ndarray, plane: str, index: int) -> np.ndarray:
    """The 2D (rows, columns) image of ``plane`` at slice ``index`` (a view, not a copy)."""
    if plane == "axial":
        return pixels[index]
    if plane == "coronal":
        return pixels[:, index, :]
    return pixels[:, :, index]


def spacing_rc(plane: str, spacing_zyx: tuple[float, float, float]) -> tuple[float, float]:
    """(row step, column step) in mm of the plane's image."""
    r, c = _ROW_COL_AXES[plane]
    return (float(spacing_zyx[r]), float(spacing_zyx[c]))


def to_voxel(plane: str, index: int, row: float, col: float) -> tuple[float, float, float]:
    """(z, y, x) voxel index of image position (row, col) in ``plane`` at slice ``index``."""
    if plane == "axial":
        return (float(index), row, col)
    if plane == "coronal":
        return (row, float(index), col)
    return (row, col, float(index))


def rows_point_up(plane: str, direction: np.ndarray) -> bool:
    """True when increasing row index should be drawn upwards (z runs towards the head in coronal/sagittal)."""
    if plane == "axial":
        return False
    return float(np.asarray(direction)[2, 2]) > 0  # LPS +Z = superior


_LPS_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # (negative, positive) along patient X, Y, Z


def _letters(vector) -> str:
    """Patient direction letters of a unit vector, strongest first (e.g. "L", or "LA" when oblique)."""
    v = np.asarray(vector, float)
    order = np.argsort(-np.abs(v))
    out = ""
    for axis in order[:2]:
        if abs(v[axis]) >= (0.3 if out else 0.0):
            out += _LPS_LETTERS[axis][int(v[axis] > 0)]
    return out


def edge_letters(plane: str, direction: np.ndarray) -> dict[str, str]:
    """Orientation markers {"left", "right", "top", "bottom"} of the displayed image (DICOM LPS)."""
    d = np.asarray(direction, float)
    column_vec = d[:, 0] if plane in ("axial", "coronal") else d[:, 1]
    row_vec = d[:, 1] if plane == "axial" else d[:, 2]
    down_vec = -row_vec if rows_point_up(plane, d) else row_vec
    return {"right": _letters(column_vec), "left": _letters(-column_vec), "bottom": _letters(down_vec), "top": _letters(-down_vec)}
