"""Synthetic DICOM series written with pydicom, for tests and the benchmark.

The stored value of every voxel is a known linear function of its patient
position (see :func:`phantom_value`), so a loader that orders slices wrongly,
flips an axis or drops the rescale produces visibly wrong numbers.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

# Patient-mm gradient of the phantom (value per mm along X, Y, Z).
PHANTOM_GRADIENT = (0.5, 1.0, 4.0)


def phantom_value(points_mm: np.ndarray) -> np.ndarray:
    """Modality value (e.g. HU) of the phantom at patient positions ``points_mm[..., 3]`` (mm)."""
    gx, gy, gz = PHANTOM_GRADIENT
    return gx * points_mm[..., 0] + gy * points_mm[..., 1] + gz * points_mm[..., 2]


@dataclass
class SeriesSpec:
    """What to write. ``orientation`` = row cosines then column cosines (DICOM IOP)."""

    n_slices: int = 8
    rows: int = 32
    columns: int = 40
    pixel_spacing: tuple[float, float] = (0.8, 0.6)  # (row spacing = dy, column spacing = dx), mm
    slice_step: float = 2.5  # mm between slice centres along the normal
    orientation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    origin: tuple[float, float, float] = (-12.0, -20.0, 30.0)
    modality: str = "CT"
    slope: float = 1.0
    intercept: float = -1024.0
    time_points: int = 1
    patient_name: str = "Doe^Jane"
    patient_id: str = "PID-0001"
    series_description: str = "Synthetic phantom"
    slice_thickness: float = 99.0  # deliberately unlike slice_step: spacing must come from positions


def _normal(orientation) -> np.ndarray:
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    return np.cross(row, col)


def slice_positions(spec: SeriesSpec) -> np.ndarray:
    """ImagePositionPatient (n_slices, 3) in mm of each slice, in true spatial order."""
    normal = _normal(spec.orientation)
    steps = np.arange(spec.n_slices)[:, None] * spec.slice_step
    return np.asarray(spec.origin, float)[None, :] + steps * normal[None, :]


def expected_slice(spec: SeriesSpec, k: int, time_point: int = 0) -> np.ndarray:
    """The modality-unit image (rows, columns) float64 the loader must return for slice ``k``."""
    row_dir = np.asarray(spec.orientation[:3], float)
    col_dir = np.asarray(spec.orientation[3:], float)
    dy, dx = spec.pixel_spacing
    r, c = np.mgrid[0 : spec.rows, 0 : spec.columns]
    pts = slice_positions(spec)[k][None, None, :] + c[..., None] * dx * row_dir + r[..., None] * dy * col_dir
    value = phantom_value(pts) + 10.0 * time_point
    stored = np.round((value - spec.intercept) / spec.slope)
    return stored * spec.slope + spec.intercept


def _base_dataset(
    spec: SeriesSpec, study_uid: str, series_uid: str, frame_uid: str, sop_uid: str, path: Path
) -> FileDataset:
    sop_class = CTImageStorage if spec.modality == "CT" else MRImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid  # one patient coordinate frame for the whole series, as scanners write
    ds.Modality = spec.modality
    ds.PatientName = spec.patient_name
    ds.PatientID = spec.patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = ds.SeriesDate = "20240102"
    ds.StudyTime = "101500"
    ds.StudyDescription = "Synthetic study"
    ds.SeriesDescription = spec.series_description
    ds.SeriesNumber = 3
    ds.AccessionNumber = "ACC123"
    ds.ReferringPhysicianName = "Who^Doctor"
    ds.InstitutionName = "General Hospital"
    ds.ImageOrientationPatient = [f"{v:.6f}" for v in spec.orientation]
    ds.PixelSpacing = [f"{v:.6f}" for v in spec.pixel_spacing]
    ds.SliceThickness = f"{spec.slice_thickness:.3f}"
    ds.Rows, ds.Columns = spec.rows, spec.columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope = f"{spec.slope:g}"
    ds.RescaleIntercept = f"{spec.intercept:g}"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    return ds


def write_series(folder: Path, spec: SeriesSpec | None = None, *, shuffle_seed: int | None = 0) -> list[Path]:
    """Write one single-frame file per slice (and per time point) into ``folder``.

    File names and InstanceNumbers are shuffled (``shuffle_seed``) so that only
    ImagePositionPatient can give the right order. Returns the written paths.
    """
    spec = spec or SeriesSpec()
    folder.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    positions = slice_positions(spec)
    jobs = [(t, k) for t in range(spec.time_points) for k in range(spec.n_slices)]
    order = np.arange(len(jobs))
    if shuffle_seed is not None:
        np.random.default_rng(shuffle_seed).shuffle(order)
    paths = []
    for file_no, job_index in enumerate(order):
        t, k = jobs[job_index]
        path = folder / f"img_{file_no:05d}.dcm"
        ds = _base_dataset(spec, study_uid, series_uid, frame_uid, generate_uid(), path)
        ds.InstanceNumber = int(order[(file_no + 3) % len(order)]) + 1  # deliberately useless for ordering
        ds.ImagePositionPatient = [f"{v:.6f}" for v in positions[k]]
        ds.SliceLocation = f"{positions[k][2]:.6f}"
        if spec.time_points > 1:
            ds.TemporalPositionIdentifier = t + 1
            ds.AcquisitionTime = (_dt.datetime(2024, 1, 2, 10, 15) + _dt.timedelta(seconds=2 * t)).strftime("%H%M%S")
        stored = np.round((expected_slice(spec, k, t) - spec.intercept) / spec.slope).astype(np.int16)
        ds.PixelData = stored.tobytes()
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_multiframe(path: Path, spec: SeriesSpec | None = None) -> Path:
    """One enhanced-style multi-frame file with per-frame functional groups (positions per frame)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    spec = spec or SeriesSpec()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = _base_dataset(spec, generate_uid(), generate_uid(), generate_uid(), generate_uid(), path)
    for name in ("ImageOrientationPatient", "PixelSpacing", "SliceThickness", "RescaleSlope", "RescaleIntercept"):
        delattr(ds, name)
    ds.NumberOfFrames = spec.n_slices
    shared = Dataset()
    plane = Dataset()
    plane.ImageOrientationPatient = [f"{v:.6f}" for v in spec.orientation]
    measures = Dataset()
    measures.PixelSpacing = [f"{v:.6f}" for v in spec.pixel_spacing]
    measures.SliceThickness = f"{spec.slice_thickness:.3f}"
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept = f"{spec.slope:g}", f"{spec.intercept:g}"
    shared.PlaneOrientationSequence = Sequence([plane])
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    positions = slice_positions(spec)
    frame_order = list(reversed(range(spec.n_slices)))  # frames stored far-to-near: loader must reorder
    per_frame = []
    for k in frame_order:
        item, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [f"{v:.6f}" for v in positions[k]]
        item.PlanePositionSequence = Sequence([pos])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    frames = [np.round((expected_slice(spec, k) - spec.intercept) / spec.slope).astype(np.int16) for k in frame_order]
    ds.PixelData = np.stack(frames).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path
