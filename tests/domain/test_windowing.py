"""Window presets are resolved by key in the domain, never by their display label."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.imaging.windowing import presets_for, resolve_window


def test_presets_by_key_and_label():
    ct = {p.key: p.label for p in presets_for("CT")}
    assert list(ct)[:2] == ["default", "ct_brain"] and ct["ct_lung"] == "Lung" and "full_range" not in ct
    assert [p.key for p in presets_for("MR")] == ["default", "auto", "full_range"]


def test_resolve_window():
    pixels = np.linspace(-1000, 1000, 10_001)
    assert resolve_window("ct_lung", pixels, "CT") == (-600.0, 1500.0)
    assert resolve_window("default", pixels, "CT", (40.0, 400.0)) == (40.0, 400.0)
    assert resolve_window("full_range", pixels, "MR") == (0.0, 2000.0)
    center, width = resolve_window("default", pixels, "MR")  # no window of its own: auto
    assert center == pytest.approx(0.0) and width == pytest.approx(1960.0)
    with pytest.raises(ValueError, match="no window preset 'Lung'"):
        resolve_window("Lung", pixels, "CT")  # a label is not a key
    with pytest.raises(ValueError):
        resolve_window("ct_lung", pixels, "MR")
