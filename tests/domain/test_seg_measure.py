"""Measurements on shapes of known size, with anisotropic voxels."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.imaging.volume import Volume
from medstation.segmentation.measure import feret_diameters, measure, report_line


def make_volume(pixels, spacing, modality="CT"):
    return Volume(pixels=pixels.astype(np.float32), spacing=spacing, origin=(0.0, 0.0, 0.0), direction=np.eye(3),
                  modality=modality, series_uid="s", study_uid="t", sop_uids=[], source_paths=[])


def test_sphere_volume_diameter_and_hu():
    spacing = (1.0, 0.5, 0.5)  # mm (z, y, x)
    shape = (41, 81, 81)
    z, y, x = np.indices(shape).astype(float)
    radius = 15.0  # mm
    mm2 = ((z - 20) * spacing[0]) ** 2 + ((y - 40) * spacing[1]) ** 2 + ((x - 40) * spacing[2]) ** 2
    mask = (mm2 <= radius ** 2).astype(np.uint8)
    pixels = np.where(mask, 50.0, -100.0) + np.where(mask, np.indices(shape)[2] % 3 - 1, 0) * 10.0
    m = measure(mask, make_volume(pixels, spacing))
    assert m.volume_ml == pytest.approx(4 / 3 * np.pi * radius ** 3 / 1000, rel=0.02)  # 14.1 mL
    assert m.axis_slice == 20
    assert m.area_mm2_by_slice[20] == pytest.approx(np.pi * radius ** 2, rel=0.02)
    assert m.long_axis_mm == pytest.approx(2 * radius, abs=1.0)  # pixel squares add up to ~one pixel
    assert m.short_axis_mm == pytest.approx(2 * radius, abs=1.0)
    assert m.mean == pytest.approx(50.0, abs=0.5) and m.minimum == 40.0 and m.maximum == 60.0
    assert m.sd == pytest.approx(np.sqrt(200 / 3), rel=0.05) and m.unit == "HU"


def test_box_diameters_are_diagonal_and_perpendicular_extent():
    mask = np.zeros((30, 40), bool)
    mask[5:17, 10:26] = True  # 12 rows x 16 columns
    long_mm, short_mm, ends = feret_diameters(mask, (2.0, 1.0))  # rows are 2 mm, columns 1 mm
    h, w = 24.0, 16.0  # mm
    assert long_mm == pytest.approx(np.hypot(h, w))
    assert short_mm == pytest.approx(2 * h * w / np.hypot(h, w))  # a rectangle's width across its diagonal
    (x0, y0), (x1, y1) = ends
    assert {round(x0), round(x1)} == {10, 26} or {x0, x1} == {9.5, 25.5}


def test_thin_line_long_axis_runs_along_it():
    mask = np.zeros((20, 60), bool)
    mask[10, 5:55] = True
    long_mm, short_mm, _ = feret_diameters(mask, (1.0, 0.7))
    assert long_mm == pytest.approx(np.hypot(50 * 0.7, 1.0))
    assert short_mm == pytest.approx(2 * 35.0 * 1.0 / np.hypot(35.0, 1.0))  # width across the diagonal


def test_box_volume_and_report_line():
    mask = np.zeros((10, 20, 20), np.uint8)
    mask[2:7, 4:14, 5:15] = 1  # 5 x 10 x 10 voxels of 2 x 1.5 x 1 mm = 1500 mm3
    pixels = np.full(mask.shape, 30.0)
    m = measure(mask, make_volume(pixels, (2.0, 1.5, 1.0)))
    assert m.volume_ml == pytest.approx(1.5)
    assert sorted(m.area_mm2_by_slice) == [2, 3, 4, 5, 6] and m.area_mm2_by_slice[4] == pytest.approx(150.0)
    line = report_line("liver lesion", m)
    assert line.startswith("Segment 'liver lesion': volume 1.5 mL, longest axial diameter 18.0 mm × 16.6 mm (slice 3)")
    assert "mean 30 HU" in line
    names = [r[0] for r in m.rows()]
    assert names.count("area_mm2") == 5 and "volume_ml" in names and "long_axis_mm" in names


def test_empty_mask_measures_nothing():
    vol = make_volume(np.zeros((2, 4, 4)), (1.0, 1.0, 1.0))
    assert measure(np.zeros((2, 4, 4)), vol) is None
    assert "empty" in report_line("x", None)
    with pytest.raises(ValueError):
        measure(np.zeros((3, 4, 4)), vol)


def test_mask_values_and_dtypes_measure_alike():
    """0/1, 0/255 and bool masks give the same numbers (measure() works on the segment's box only)."""
    pixels = np.arange(4 * 20 * 30, dtype=np.float32).reshape(4, 20, 30)
    mask = np.zeros((4, 20, 30), np.uint8)
    mask[1:3, 5:9, 10:20] = 1
    mask[3, 19, 29] = 1  # a far corner voxel widens the box to the edge
    volume = make_volume(pixels, (2.0, 1.0, 1.0))
    ones, scaled, flags = (measure(m, volume) for m in (mask, mask * 255, mask.astype(bool)))
    assert ones == scaled == flags
    assert ones.voxel_count == 81 and ones.maximum == float(pixels[3, 19, 29])
    assert ones.mean == pytest.approx(float(pixels[mask.astype(bool)].mean()))
