"""A header that promises a gigantic frame is refused before any pixel is decoded.

Found by ``benchmarks/fuzz_dicom.py`` (seed 2, mutant 38937): a 1.3 kB RLE file claiming
25,956 × 41,060 RGB 16-bit pixels made the decoder ask for 6.4 GB.
"""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file

from medstation.imaging.headers import MAX_FRAME_BYTES, ImagingError, frame_bytes, frame_headers
from medstation.imaging.loader import load_series
from medstation.jobs import JobContext


def _giant(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_rle_16bit.dcm"))
    ds.Rows, ds.Columns = 25956, 41060
    out = tmp_path / "giant.dcm"
    ds.save_as(out)
    return out


def test_frame_size_comes_from_the_header():
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_rle_16bit.dcm"), stop_before_pixels=True)
    assert frame_bytes(ds) == ds.Rows * ds.Columns * 3 * 2
    assert frame_headers(ds, "x")  # a normal image passes


def test_a_gigantic_header_is_refused_with_a_reason(tmp_path):
    path = _giant(tmp_path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert frame_bytes(ds) > MAX_FRAME_BYTES
    with pytest.raises(ImagingError, match="image too large: 25956 × 41060"):
        frame_headers(ds, path)
    with pytest.raises(ImagingError, match="too large"):
        load_series(JobContext(), [path], workers=1)
