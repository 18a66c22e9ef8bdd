"""A JP2-wrapped JPEG 2000 frame with a zero-length box is refused, not an endless loop.

Found by ``benchmarks/fuzz_dicom.py`` (seed 1, mutant 33397): pydicom 3.0.2 walks the JP2 boxes of
the first frame before decoding, and a box of length 0 before the codestream box never advances it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate

from medstation.imaging.decode import JP2_SIGNATURE, _walk_jp2_boxes
from medstation.imaging.headers import ImagingError
from medstation.imaging.loader import load_series
from medstation.jobs import JobContext


def _box(kind: bytes, payload: bytes, length: int | None = None) -> bytes:
    return (len(payload) + 8 if length is None else length).to_bytes(4, "big") + kind + payload


def _jp2_with_zero_box(tmp_path: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("MR_small_jp2klossless.dcm"))
    frame = JP2_SIGNATURE + b"\r\n\x87\n" + _box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ") + _box(b"uuid", b"\x00" * 16, length=0)
    ds.PixelData = encapsulate([frame])
    out = tmp_path / "jp2_zero_box.dcm"
    ds.save_as(out)
    return out


def _raise_timeout(*_):
    raise TimeoutError("the loader did not return within 20 s")


def test_zero_length_jp2_box_is_reported_quickly(tmp_path):
    path = _jp2_with_zero_box(tmp_path)
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(20)  # the unfixed loop spins in Python, so the alarm's exception interrupts it
    try:
        with pytest.raises(ImagingError, match="length 0 before the codestream"):
            load_series(JobContext(), [path], workers=1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_valid_box_chains_pass_and_bad_ones_are_named():
    good = JP2_SIGNATURE + b"\r\n\x87\n" + _box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ") + _box(b"jp2c", b"\xff\x4f\xff\x51")
    _walk_jp2_boxes(good)  # no error: reaches the codestream box
    _walk_jp2_boxes(b"\xff\x4f\xff\x51rest")  # a bare codestream is not a JP2 file
    with pytest.raises(ValueError, match="extended length of 3"):
        _walk_jp2_boxes(JP2_SIGNATURE + b"\r\n\x87\n" + (1).to_bytes(4, "big") + b"xml " + (3).to_bytes(8, "big"))
    with pytest.raises(ValueError, match="length 5"):
        _walk_jp2_boxes(JP2_SIGNATURE + b"\r\n\x87\n" + _box(b"ftyp", b"", length=5))
