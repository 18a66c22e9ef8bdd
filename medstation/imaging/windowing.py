"""Display windows: CT presets in HU and an automatic window from percentiles (MR, PET, anything).

A window is ``(center, width)`` in modality units; the displayed grey level of
value v is ``clip((v - (center - width / 2)) / width, 0, 1)``.
"""

from __future__ import annotations

import numpy as np

CT_PRESETS: dict[str, tuple[float, float]] = {
    "Brain": (40.0, 80.0),
    "Lung": (-600.0, 1500.0),
    "Abdomen": (50.0, 400.0),
    "Bone": (400.0, 1800.0),
    "Mediastinum": (50.0, 350.0),
}

# Only this many voxels are sampled for the percentiles: the window need not be exact.
_SAMPLE = 400_000


def auto_window(pixels: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> tuple[float, float]:
    """(center, width) spanning the ``low_pct``–``high_pct`` percentiles of ``pixels`` (any shape)."""
    flat = np.asarray(pixels).reshape(-1)
    if flat.size == 0:
        return (0.0, 1.0)
    if flat.size > _SAMPLE:
        flat = flat[:: flat.size // _SAMPLE]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return (0.0, 1.0)
    lo, hi = np.percentile(flat, [low_pct, high_pct])
    width = float(max(hi - lo, 1e-3))
    return (float(lo + hi) / 2.0, width)


def presets_for(modality: str) -> dict[str, tuple[float, float] | None]:
    """Preset names for a modality; ``None`` means computed from the pixels ("Auto": 1–99th
    percentile, "Full range": minimum to maximum)."""
    if modality.upper() == "CT":
        return {**CT_PRESETS, "Auto": None}
    return {"Auto": None, "Full range": None}


def full_range_window(pixels: np.ndarray) -> tuple[float, float]:
    return auto_window(pixels, 0.0, 100.0)
