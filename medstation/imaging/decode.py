"""Pixel decoding of one file's frames, with a zero-copy fast path for native little-endian data.

Files are read with large elements deferred (``dcmread(defer_size=...)``), so the
header pass never copies pixel bytes through Python. For uncompressed
little-endian monochrome data whose stored bits fill the allocated bits, the
frames are read straight from the file at the pixel element's offset
(``np.fromfile``, which releases the GIL). Everything else — JPEG 2000, JPEG-LS,
JPEG lossless, RLE, big endian, packed bits, colour — goes through pydicom's
pixel handlers (pylibjpeg plugins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Elements larger than this are read only on access (pixel data, big private blobs).
DEFER_SIZE = 16 * 1024
# Explicit and implicit VR little endian (plain strings: pydicom's UID is a str, and importing it here
# would make building the imaging service at start-up pay for pydicom).
NATIVE_SYNTAXES = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"}
PIXEL_DATA_TAG = 0x7FE00010
# JPEG 2000 and HTJ2K transfer syntaxes, whose fragments may start with a JP2 file header.
JPEG2000_SYNTAXES = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.92",
                     "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                     "1.2.840.10008.1.2.4.203"}
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  "


@dataclass(frozen=True)
class NativePixels:
    """Where a file's native pixel values lie (from the index), so loading needs no header parsing."""

    offset: int
    dtype: str
    rows: int
    columns: int
    n_frames: int


def native_pixel_location(ds, path: str, file_size: int) -> dict | None:
    """For a header-only dataset (``stop_before_pixels``): the pixel value offset if the fast path applies.

    Pixel Data is normally the last element, so its value starts at ``file_size - length``; the element
    header in front of that offset is checked (tag and length) before the location is trusted.
    """
    dtype = _native_dtype(ds)
    if dtype is None or "ModalityLUTSequence" in ds:  # a LUT needs the dataset at decode time
        return None
    try:
        rows, columns = int(ds.Rows), int(ds.Columns)
        n_frames = max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError, AttributeError):
        return None
    needed = rows * columns * n_frames * dtype.itemsize
    for length in (needed, needed + 1):  # odd lengths are padded to even
        offset = file_size - length
        if offset < 12:
            continue
        with open(path, "rb") as fh:
            fh.seek(offset - 12)
            head = fh.read(12)
        explicit = head[0:4] == b"\xe0\x7f\x10\x00" and head[4:6] in (b"OW", b"OB") and int.from_bytes(head[8:12], "little") == length
        implicit = head[4:8] == b"\xe0\x7f\x10\x00" and int.from_bytes(head[8:12], "little") == length
        if explicit or implicit:
            return {"offset": offset, "dtype": dtype.str, "rows": rows, "columns": columns, "n_frames": n_frames}
    return None


def _native_dtype(ds) -> np.dtype | None:
    """Numpy dtype of native stored values, or None if the fast path does not apply."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax not in NATIVE_SYNTAXES or int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        return None
    bits, stored = int(ds.get("BitsAllocated", 0) or 0), int(ds.get("BitsStored", 0) or 0)
    if bits not in (8, 16, 32) or stored != bits:
        return None  # packed or masked high bits: let pydicom handle the bit fiddling
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def _read_native(ds, path: str, dtype: np.dtype, n_frames: int) -> np.ndarray | None:
    rows, columns = int(ds.Rows), int(ds.Columns)
    raw = ds.get_item(PIXEL_DATA_TAG, keep_deferred=True)
    offset = getattr(raw, "value_tell", None)
    count = rows * columns * n_frames
    if raw is None or getattr(raw, "value", b"") is not None or offset is None:
        return None  # not deferred (small image): use the in-memory bytes below
    if raw.length == 0xFFFFFFFF or raw.length < count * dtype.itemsize:
        raise ValueError(f"pixel data holds {raw.length} bytes, {count * dtype.itemsize} needed")
    arr = np.fromfile(path, dtype=dtype, count=count, offset=offset)
    if arr.size < count:
        raise ValueError(f"file truncated: {arr.size * dtype.itemsize} of {count * dtype.itemsize} pixel bytes present")
    return arr.reshape(n_frames, rows, columns)


def _luminance(arr: np.ndarray) -> np.ndarray:
    return arr[..., 0] * 0.299 + arr[..., 1] * 0.587 + arr[..., 2] * 0.114


def decode_frames(ds, path: str, n_frames: int) -> np.ndarray:
    """All frames of ``ds`` (a dataset or a :class:`NativePixels`) as (frames, rows, columns) stored values.

    Colour images become luminance. A Modality LUT Sequence is applied here (its output replaces
    the stored values; the frame header's slope/intercept are then 1 and 0).
    """
    if isinstance(ds, NativePixels):
        count = ds.rows * ds.columns * ds.n_frames
        arr = np.fromfile(path, dtype=np.dtype(ds.dtype), count=count, offset=ds.offset)
        if arr.size < count:
            raise ValueError(f"file truncated: {arr.size} of {count} pixel values present")
        return arr.reshape(ds.n_frames, ds.rows, ds.columns)
    dtype = _native_dtype(ds)
    if dtype is not None and "PixelData" in ds:
        arr = _read_native(ds, path, dtype, n_frames)
        if arr is not None:
            return _modality_lut(ds, arr)
    _refuse_malformed_jp2(ds)
    arr = _modality_lut(ds, ds.pixel_array)
    if int(ds.get("SamplesPerPixel", 1) or 1) > 1:
        arr = _luminance(arr.astype(np.float32))
    if n_frames == 1 and arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] < n_frames:
        raise ValueError(f"decoded shape {arr.shape} does not match {n_frames} frame(s)")
    return arr


def _refuse_malformed_jp2(ds) -> None:
    """Raise ValueError for a JP2-wrapped JPEG 2000 frame whose box lengths cannot be walked.

    Why: pydicom 3.0.2's ``get_j2k_parameters`` walks the JP2 boxes of the first frame before
    decoding, and a box length of 0 ("to the end of the file", ISO/IEC 15444-1 I.4) before the
    codestream box makes it loop forever (found by ``benchmarks/fuzz_dicom.py``, seed 1, mutant 33397).
    Only the box headers are read here; the pixel decoders still check the codestream itself.
    """
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if syntax not in JPEG2000_SYNTAXES or "PixelData" not in ds:
        return
    from pydicom.encaps import generate_fragments

    try:
        fragments = generate_fragments(ds.PixelData)
        for fragment in fragments:
            _walk_jp2_boxes(fragment)
    except (ValueError, TypeError, IndexError, EOFError) as exc:
        raise ValueError(f"malformed JPEG 2000 pixel data: {exc}") from exc


def _walk_jp2_boxes(head: bytes) -> None:
    """Check the JP2 box chain at the start of one pixel-data fragment."""
    if not head.startswith(JP2_SIGNATURE):
        return  # a bare codestream: nothing for the box walk to loop on
    offset = 12
    while offset + 8 <= len(head):
        length = int.from_bytes(head[offset:offset + 4], "big")
        kind = head[offset + 4:offset + 8]
        if kind == b"jp2c":
            return
        if length == 1:  # the real length follows as 8 bytes (XLBox)
            length = int.from_bytes(head[offset + 8:offset + 16], "big")
            if length < 16:
                raise ValueError(f"JP2 box {kind!r} at byte {offset} has an extended length of {length}")
        elif length < 8:  # 0 ("to the end") before the codestream box, or shorter than its own header
            raise ValueError(f"JP2 box {kind!r} at byte {offset} has length {length} before the codestream")
        offset += length


def _modality_lut(ds, arr: np.ndarray) -> np.ndarray:
    """Stored values through the Modality LUT Sequence when there is one (then there is no rescale).

    pydicom's ``apply_modality_lut`` applies the LUT (first descriptor value 0 = 65536 entries,
    values outside the table clamp to its ends)."""
    if "ModalityLUTSequence" not in ds:
        return arr
    from pydicom.pixels import apply_modality_lut

    return apply_modality_lut(arr, ds)


def rescale_into(out: np.ndarray, stored: np.ndarray, slope: float, intercept: float) -> None:
    """``out[...] = stored * slope + intercept`` in float32, without float64 temporaries."""
    out[...] = stored
    if slope != 1.0:
        out *= np.float32(slope)
    if intercept != 0.0:
        out += np.float32(intercept)
