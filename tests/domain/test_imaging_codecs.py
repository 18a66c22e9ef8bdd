"""Decoding real files: the shipped JPEG 2000 sample CT and pydicom-data's compressed variants."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from medstation.config import sample_study_dir
from medstation.imaging.headers import ImagingError
from medstation.imaging.loader import load_series
from medstation.jobs import JobContext


def test_sample_ct_decodes_to_hu_with_geometry():
    files = sorted(sample_study_dir().iterdir())
    vol = load_series(JobContext(), files)
    assert vol.shape == (20, 512, 512)
    assert vol.spacing == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert vol.modality == "CT"
    # Air outside the body is about -1000 HU and there is dense tissue/bone inside.
    assert vol.pixels.min() == pytest.approx(-1024.0)
    assert np.percentile(vol.pixels, 99.5) > 200
    assert abs(float(np.median(vol.pixels[:, :40, :40])) + 1000) < 60
    # The two text files beside the images are reported, not fatal.
    assert {p.split("/")[-1] for p, _ in vol.meta["skipped"]} == {"LICENSE.txt", "PROVENANCE.txt"}
    z = [vol.voxel_to_patient(k, 0, 0)[2] for k in range(vol.shape[0])]
    assert np.all(np.diff(z) > 0)


@pytest.mark.parametrize(
    "compressed, reference",
    [
        ("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm"),  # JPEG-LS lossless, 10 frames
        ("emri_small_RLE.dcm", "emri_small.dcm"),  # RLE lossless
        ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm"),  # JPEG 2000 lossless
        ("MR2_J2KR.dcm", "MR2_UNCR.dcm"),
        ("emri_small_big_endian.dcm", "emri_small.dcm"),  # big endian: pydicom path, not the fast path
    ],
)
def test_compressed_files_decode_like_their_uncompressed_twin(compressed, reference):
    a = load_series(JobContext(), [get_testdata_file(compressed)])
    b = load_series(JobContext(), [get_testdata_file(reference)])
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_jpeg_lossless_process14_decodes():
    vol = load_series(JobContext(), [get_testdata_file("JPEG-LL.dcm")])
    assert vol.shape == (1, 1024, 256)
    assert float(vol.pixels.std()) > 0


def test_truncated_jpeg2000_is_reported_not_raised(tmp_path):
    good = get_testdata_file("emri_small.dcm")
    bad = get_testdata_file("emri_small_jpeg_2k_lossless_too_short.dcm")
    with pytest.raises(ImagingError) as info:
        load_series(JobContext(), [bad])
    assert "emri_small_jpeg_2k_lossless_too_short" in str(info.value) or "decode" in str(info.value)
    vol = load_series(JobContext(), [good, bad], series_uid=load_series(JobContext(), [good]).series_uid)
    assert any(p == bad for p, _ in vol.meta["skipped"])
