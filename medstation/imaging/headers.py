"""Plain per-frame header records read from DICOM datasets (no pixels).

A :class:`FrameHeader` is everything the loader needs to place one 2D frame in
patient space and convert it to modality units. Single-frame files give one
record; enhanced multi-frame files give one per frame, taken from the
per-frame functional groups (falling back to the shared groups, then to the
top-level attributes).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medstation.errors import UserFacingError
from medstation.fileio import file_sha256

if TYPE_CHECKING:  # pydicom is imported lazily: building the service at start-up must stay cheap
    from pydicom.dataset import Dataset


class ImagingError(UserFacingError):
    """A problem the user must be told about in plain words (no usable images, ambiguous series...)."""


def read_dicom(path: str | Path, *, stop_before_pixels: bool = False, defer_size: int | None = None):
    """``(dataset, None)`` or ``(None, reason)``: the one lenient DICOM read (indexer and loader).

    Never raises for bad files (pydicom raises many types on hostile bytes). A file
    written without the 128-byte preamble and "DICM" prefix is read again with
    ``force=True`` and counts as DICOM only if it names its SOP class or instance.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        try:
            return pydicom.dcmread(path, stop_before_pixels=stop_before_pixels, defer_size=defer_size), None
        except InvalidDicomError:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels, defer_size=defer_size, force=True)
            except Exception:  # no "DICM" prefix and no parse either: not DICOM at all
                return None, "not a DICOM file"
            if "SOPClassUID" not in ds and "SOPInstanceUID" not in ds:
                return None, "not a DICOM file"
            return ds, None
    except MemoryError:
        return None, "file claims an impossible element length (corrupt)"
    except FileNotFoundError:  # not a damaged file: it is not there (moved or deleted since it was indexed)
        return None, "file not found (moved or deleted?)"
    except PermissionError:
        return None, "no permission to read this file"
    except Exception as exc:
        return None, f"unreadable DICOM ({exc.__class__.__name__}: {str(exc)[:160]})"


@dataclass(frozen=True)
class FrameHeader:
    """One 2D frame. Positions/orientation in patient mm (LPS); ``pixel_spacing`` = (row step dy, column step dx) mm."""

    path: str
    frame: int  # 0-based frame index inside the file
    n_frames: int
    sop_uid: str
    series_uid: str
    study_uid: str
    modality: str
    rows: int
    columns: int
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None  # row cosines (3) then column cosines (3)
    pixel_spacing: tuple[float, float]
    slope: float
    intercept: float
    instance_number: int | None
    temporal_index: float | None  # TemporalPositionIdentifier / trigger / acquisition time, for 4D splits
    slice_thickness: float | None


def frame_to_cache(header: FrameHeader) -> dict:
    """JSON-able form of a frame header without its path (stored in ``Instance.header_cache``)."""
    data = asdict(header)
    data.pop("path")
    return data


def frame_from_cache(data: dict, path: str) -> FrameHeader:
    """Inverse of :func:`frame_to_cache` (JSON turned tuples into lists)."""
    fields = dict(data)
    for key in ("position", "orientation", "pixel_spacing"):
        if fields.get(key) is not None:
            fields[key] = tuple(float(v) for v in fields[key])
    return FrameHeader(path=str(path), **fields)


def _floats(value, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n and all(np.isfinite(out)) else None


def _float(value, default: float | None) -> float | None:
    """A finite float from a DS/IS/FD value; a multi-valued element gives its first value."""
    if value is not None and not isinstance(value, (str, bytes, int, float)) and hasattr(value, "__len__"):
        value = value[0] if len(value) else None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return default
    return out if np.isfinite(out) else default


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _time_seconds(value) -> float | None:
    """DICOM TM 'HHMMSS.ffffff' to seconds since midnight."""
    text = str(value or "").strip()
    if len(text) < 2 or not text.replace(".", "").isdigit():
        return None
    hh, mm, ss = text[0:2], text[2:4] or "0", text[4:] or "0"
    try:
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    except ValueError:
        return None


def _first_item(ds: Dataset | None, sequence: str) -> Dataset | None:
    if ds is None:
        return None
    seq = ds.get(sequence)
    try:
        return seq[0] if seq else None
    except (TypeError, IndexError):
        return None


def _lookup(keyword: str, *sources: Dataset | None):
    """The first value of ``keyword`` found in ``sources`` (per-frame item, shared item, top level)."""
    for src in sources:
        if src is not None and keyword in src:
            value = src.get(keyword)
            if value is not None and value != "":
                return value
    return None


def temporal_index(ds: Dataset, frame_item: Dataset | None = None) -> float | None:
    content = _first_item(frame_item, "FrameContentSequence")
    for source, key in (
        (content, "TemporalPositionIndex"),
        (ds, "TemporalPositionIdentifier"),
        (ds, "TriggerTime"),
    ):
        value = _float(source.get(key), None) if source is not None else None
        if value is not None:
            return value
    return _time_seconds(ds.get("AcquisitionTime"))


def _derived_uid(*parts: object) -> str:
    """A stable UID (2.25 + 128-bit hash) for files whose real UID was stripped by an anonymiser."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()[:16]
    return "2.25." + str(int.from_bytes(digest, "big"))


def instance_identity(ds: Dataset, path: str | Path) -> tuple[str, str, str]:
    """(sop_uid, series_uid, study_uid). Blank UIDs (seen in anonymised data such as the sample CT)
    are derived from content, never from where the file lies, so the same images opened from another
    folder keep their identity (and their segments):

    - SOP Instance: a hash of the file's bytes (pixel data and geometry included);
    - Series: the study plus the tags every image of one series shares (frame of reference, modality,
      series number and description, matrix, pixel spacing, orientation, slice thickness);
    - Study: the patient and study tags; when all of them are blank, one study per series, so that
      unrelated anonymised series are never merged.
    """
    def text(keyword: str, src=ds) -> str:
        return str(src.get(keyword, "") or "").strip() if src is not None else ""

    sop = text("SOPInstanceUID") or text("MediaStorageSOPInstanceUID", getattr(ds, "file_meta", None))
    sop = sop or _derived_uid("sop", file_digest(path))
    study_tags = [text(k) for k in ("PatientID", "PatientName", "StudyDate", "StudyTime", "AccessionNumber",
                                    "StudyID", "StudyDescription")]
    series_tags = [text("FrameOfReferenceUID"), text("Modality"), text("SeriesNumber"), text("SeriesDescription"),
                   text("SeriesDate"), text("SeriesTime"), text("Rows"), text("Columns"), text("PixelSpacing"),
                   text("ImageOrientationPatient"), text("SliceThickness"), text("BodyPartExamined")]
    study = text("StudyInstanceUID")
    if not study:
        study = _derived_uid("study", *study_tags) if any(study_tags) else _derived_uid("study-of-series", *series_tags)
    series = text("SeriesInstanceUID") or _derived_uid("series", study, *series_tags)
    return sop, series, study


def legacy_folder_series_uid(ds: Dataset, path: str | Path) -> str | None:
    """The series UID that releases up to 1c99c71 derived for a blank-UID file from its *folder* and tags,
    or None when the file has a real Series Instance UID. Used only to carry segments and measurements saved
    under that UID over to the content-derived one (:func:`instance_identity`)."""
    def text(keyword: str) -> str:
        return str(ds.get(keyword, "") or "").strip()

    if text("SeriesInstanceUID"):
        return None
    folder = str(Path(path).resolve().parent)
    study = text("StudyInstanceUID") or _derived_uid(
        "study", folder, text("PatientID"), text("PatientName"), text("StudyDate"), text("StudyTime"),
        text("AccessionNumber"))
    return _derived_uid("series", study, text("FrameOfReferenceUID"), text("Modality"), text("SeriesNumber"),
                        text("SeriesDescription"))


# (resolved path, size, mtime_ns) -> sha256 hex: a blank-UID file is hashed once per change, not per header read.
_DIGESTS: dict[tuple[str, int, int], str] = {}
_DIGEST_CACHE_MAX = 50_000


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (cached by path, size and mtime); the path itself when it cannot be read."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:
        return "path:" + str(p)
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        try:
            digest = file_sha256(p)
        except OSError:
            return "path:" + str(p)
        if len(_DIGESTS) >= _DIGEST_CACHE_MAX:
            _DIGESTS.clear()
        _DIGESTS[key] = digest
    return digest


def _grid_offset_position(ds: Dataset, base, orientation, frame: int):
    """RT Dose (PS3.3 C.8.8.3.2): frame k lies at GridFrameOffsetVector[k] along the slice normal.

    A first offset of 0 makes the offsets relative to ImagePositionPatient; otherwise they are
    the frames' coordinates along the normal (defined for axial grids), so the first frame sits
    at ``offsets[0]`` and its in-plane position stays that of ImagePositionPatient."""
    try:
        offsets = [float(v) for v in ds.GridFrameOffsetVector]
    except (AttributeError, TypeError, ValueError):
        return None
    if frame >= len(offsets) or orientation is None:
        return None
    normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
    base = np.asarray(base, float)
    if offsets[0] == 0.0:
        return tuple(float(v) for v in base + offsets[frame] * normal)
    return tuple(float(v) for v in base + (offsets[frame] - float(np.dot(base, normal))) * normal)


def _stacked_position(ds: Dataset, base, orientation, frame: int):
    if "GridFrameOffsetVector" in ds:
        return _grid_offset_position(ds, base, orientation, frame)
    step = _float(ds.get("SpacingBetweenSlices"), None)
    if step is None or orientation is None:
        return None  # no way to tell where frame k lies: the loader orders frames without geometry
    normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
    return tuple(float(v) for v in np.asarray(base) + frame * step * normal)


MAX_FRAME_BYTES = 512 * 2**20
"""Largest decoded frame accepted (rows × columns × samples × bytes per sample): 512 MiB.

A 16,384² 16-bit frame fits; the largest clinical images (mammograms, about 4,000 × 5,000) use a
twentieth of it. The header is checked before any pixel is decoded, because the decoders allocate
what Rows × Columns promise: a 1.3 kB RLE file that claims 25,956 × 41,060 RGB 16-bit pixels asked
for 6.4 GB (``benchmarks/fuzz_dicom.py``, seed 2, mutant 38937)."""


def frame_bytes(ds: Dataset) -> int:
    """Decoded size in bytes of one frame of ``ds`` as its header describes it (0 when Rows/Columns are absent)."""
    rows, columns = _int(ds.get("Rows")) or 0, _int(ds.get("Columns")) or 0
    samples = max(1, _int(ds.get("SamplesPerPixel")) or 1)
    bits = max(1, _int(ds.get("BitsAllocated")) or 16)
    return rows * columns * samples * ((bits + 7) // 8)


def frame_headers(ds: Dataset, path: str | Path) -> list[FrameHeader]:
    """One :class:`FrameHeader` per frame of ``ds``.

    Raises :class:`ImagingError` if it is not an image, or if one frame would decode to more than
    :data:`MAX_FRAME_BYTES`."""
    rows, columns = _int(ds.get("Rows")), _int(ds.get("Columns"))
    if not rows or not columns:
        raise ImagingError("not an image (no Rows/Columns)")
    size = frame_bytes(ds)
    if size > MAX_FRAME_BYTES:
        raise ImagingError(f"image too large: {rows} × {columns} pixels would decode to {size / 2**20:,.0f} MiB "
                           f"per frame (limit {MAX_FRAME_BYTES // 2**20} MiB); the header is probably corrupt")
    n_frames = max(1, _int(ds.get("NumberOfFrames")) or 1)
    shared = _first_item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    sop_uid, series_uid, study_uid = instance_identity(ds, path)
    out = []
    for frame in range(n_frames):
        item = per_frame[frame] if per_frame is not None and frame < len(per_frame) else None
        groups = [(_first_item(item, s), _first_item(shared, s)) for s in ("PlanePositionSequence", "PlaneOrientationSequence", "PixelMeasuresSequence", "PixelValueTransformationSequence")]
        (pos_f, pos_s), (ori_f, ori_s), (meas_f, meas_s), (pix_f, pix_s) = groups
        position = _floats(_lookup("ImagePositionPatient", pos_f, pos_s, ds) or (), 3)
        orientation = _floats(_lookup("ImageOrientationPatient", ori_f, ori_s, ds) or (), 6)
        spacing = _floats(_lookup("PixelSpacing", meas_f, meas_s, ds) or _lookup("ImagerPixelSpacing", ds) or (), 2)
        if spacing is None or min(spacing) <= 0:
            spacing = (1.0, 1.0)
        if n_frames > 1 and pos_f is None and position is not None:
            # Classic multi-frame: one position for the file. Frames are a stack only if a step is given.
            position = _stacked_position(ds, position, orientation, frame)
        out.append(
            FrameHeader(
                path=str(path),
                frame=frame,
                n_frames=n_frames,
                sop_uid=sop_uid,
                series_uid=series_uid,
                study_uid=study_uid,
                modality=str(ds.get("Modality", "")),
                rows=rows,
                columns=columns,
                position=position,
                orientation=orientation,
                pixel_spacing=spacing,  # type: ignore[arg-type]
                slope=_float(_lookup("RescaleSlope", pix_f, pix_s, ds), None) or _float(ds.get("DoseGridScaling"), 1.0) or 1.0,
                intercept=_float(_lookup("RescaleIntercept", pix_f, pix_s, ds), 0.0) or 0.0,
                instance_number=_int(ds.get("InstanceNumber")),
                temporal_index=temporal_index(ds, item),
                slice_thickness=_float(_lookup("SliceThickness", meas_f, meas_s, ds), None),
            )
        )
    return out


def default_window(ds: Dataset) -> tuple[float, float] | None:
    """(center, width) from WindowCenter/WindowWidth (first value if several), or None.

    Display only, so an element pydicom cannot decode counts as absent (the viewer then
    picks a window from the pixels) instead of failing the whole series.
    """
    try:
        frame_voi = _first_item(_first_item(ds, "SharedFunctionalGroupsSequence"), "FrameVOILUTSequence")
        center = _float(_lookup("WindowCenter", frame_voi, ds), None)
        width = _float(_lookup("WindowWidth", frame_voi, ds), None)
    except Exception:  # lazy decoding of a corrupt element (e.g. unknown VR) raises on access
        return None
    if center is None or width is None or width <= 0:
        return None
    return (center, width)


def overlay_meta(ds: Dataset) -> dict[str, str]:
    """Strings for the viewer's patient/study overlay; a tag that cannot be decoded shows as empty."""
    def text(keyword: str) -> str:
        try:
            return str(ds.get(keyword, "") or "")
        except Exception:  # pydicom decodes lazily: a corrupt element (e.g. unknown VR) raises here
            return ""

    return {
        "patient_name": text("PatientName").replace("^", " ").strip(),
        "patient_id": text("PatientID"),
        "birth_date": text("PatientBirthDate"),
        "sex": text("PatientSex"),
        "study_date": text("StudyDate"),
        "study_description": text("StudyDescription"),
        "series_description": text("SeriesDescription"),
        "series_number": text("SeriesNumber"),
        "institution": text("InstitutionName"),
        "photometric": text("PhotometricInterpretation"),
    }
