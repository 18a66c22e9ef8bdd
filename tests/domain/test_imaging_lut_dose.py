"""Modality LUT Sequence applied on decode; RT Dose frames placed by GridFrameOffsetVector and scaled to Gy."""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut

from medstation.imaging.loader import load_series
from medstation.jobs import JobContext


def test_modality_lut_sequence_is_applied():
    path = get_testdata_file("mlut_18.dcm")
    ds = pydicom.dcmread(path)
    expected = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    assert not np.array_equal(expected, ds.pixel_array)  # the LUT changes values: the test can tell
    vol = load_series(JobContext(), [path])
    np.testing.assert_array_equal(vol.pixels[0], expected)


def test_rt_dose_grid_is_placed_by_position_and_frame_offsets():
    path = get_testdata_file("rtdose.dcm")
    ds = pydicom.dcmread(path)
    vol = load_series(JobContext(), [path])
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    assert vol.pixels.shape[0] == len(offsets) == 15
    np.testing.assert_allclose(vol.origin, [float(v) for v in ds.ImagePositionPatient], atol=1e-4)
    np.testing.assert_allclose(vol.spacing[0], offsets[1] - offsets[0], atol=1e-6)
    last = vol.voxel_to_patient(len(offsets) - 1, 0, 0)
    np.testing.assert_allclose(last[2], float(ds.ImagePositionPatient[2]) + offsets[-1], atol=1e-4)
    # Values in Gy: stored values times DoseGridScaling.
    np.testing.assert_allclose(vol.pixels.max(), ds.pixel_array.max() * float(ds.DoseGridScaling), rtol=1e-5)


def test_absolute_grid_offsets_are_coordinates_along_the_normal(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("rtdose.dcm"))
    z0 = float(ds.ImagePositionPatient[2])
    ds.GridFrameOffsetVector = [z0 + 5.0 * k for k in range(int(ds.NumberOfFrames))]  # first value non-zero
    ds.save_as(tmp_path / "dose.dcm")
    vol = load_series(JobContext(), [str(tmp_path / "dose.dcm")])
    np.testing.assert_allclose(vol.origin[2], z0, atol=1e-4)
    np.testing.assert_allclose(vol.spacing[0], 5.0, atol=1e-6)


def test_indexed_series_keeps_the_lut_and_the_dose_grid(settings, db, tmp_path):
    import shutil

    from medstation.access.roles import UserSession
    from medstation.imaging.service import ImagingService

    for name in ("mlut_18.dcm", "rtdose.dcm"):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(get_testdata_file(name), folder / name)
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    uids = service.index_job(JobContext(), [tmp_path]).series_uids
    volumes = {v.pixels.shape[0]: v for v in (service.load_series_job(JobContext(), u) for u in uids)}
    ds = pydicom.dcmread(get_testdata_file("mlut_18.dcm"))
    np.testing.assert_array_equal(volumes[1].pixels[0], apply_modality_lut(ds.pixel_array, ds).astype(np.float32))
    np.testing.assert_allclose(volumes[15].spacing[0], 5.0, atol=1e-6)
