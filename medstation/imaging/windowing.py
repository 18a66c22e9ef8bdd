"""Display windows: CT presets in HU and an automatic window from percentiles (MR, PET, anything).

A window is ``(center, width)`` in modality units; the displayed grey level of
value v is ``clip((v - (center - width / 2)) / width, 0, 1)``. Presets are named
by a stable ``key`` (``"ct_lung"``, ``"auto"``…); the label is only for display, so
a translated or reworded label never changes which window is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CT_PRESETS: dict[str, tuple[str, tuple[float, float]]] = {
    "ct_brain": ("Brain", (40.0, 80.0)),
    "ct_lung": ("Lung", (-600.0, 1500.0)),
    "ct_abdomen": ("Abdomen", (50.0, 400.0)),
    "ct_bone": ("Bone", (400.0, 1800.0)),
    "ct_mediastinum": ("Mediastinum", (50.0, 350.0)),
}

# Only this many voxels are sampled for the percentiles: the window need not be exact.
_SAMPLE = 400_000


@dataclass(frozen=True)
class WindowPreset:
    """``key`` (stable id), ``label`` (shown), ``window`` (center, width) or None when computed from the pixels."""

    key: str
    label: str
    window: tuple[float, float] | None = None


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


def full_range_window(pixels: np.ndarray) -> tuple[float, float]:
    return auto_window(pixels, 0.0, 100.0)


def presets_for(modality: str) -> list[WindowPreset]:
    """The presets offered for a modality, in menu order: the series' own window first."""
    out = [WindowPreset("default", "Default")]
    if modality.upper() == "CT":
        out += [WindowPreset(key, label, window) for key, (label, window) in CT_PRESETS.items()]
        out.append(WindowPreset("auto", "Auto"))
    else:
        out += [WindowPreset("auto", "Auto"), WindowPreset("full_range", "Full range")]
    return out


def resolve_window(key: str, pixels: np.ndarray, modality: str,
                   series_window: tuple[float, float] | None = None) -> tuple[float, float]:
    """(center, width) for preset ``key``: ``default`` = the series' own window (else auto), ``auto`` =
    1st–99th percentile, ``full_range`` = min–max, a CT key = its fixed window. Unknown keys raise ValueError."""
    if key == "default":
        return tuple(series_window) if series_window else auto_window(pixels)
    if key == "auto":
        return auto_window(pixels)
    if key == "full_range":
        return full_range_window(pixels)
    for preset in presets_for(modality):
        if preset.key == key and preset.window is not None:
            return preset.window
    raise ValueError(f"no window preset {key!r} for {modality or 'this modality'}")
