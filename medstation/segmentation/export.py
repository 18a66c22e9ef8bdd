"""Export segments aligned to their series: a NIfTI label map and a DICOM Segmentation object.

Label maps are uint8 (z, y, x) with 0 = background and 1..N = segment numbers.

* NIfTI via nibabel: spacing, origin and direction come from the Volume (DICOM LPS);
  the qform/sform are written in NIfTI's RAS convention (x and y negated), as SimpleITK reads them.
* DICOM-SEG via highdicom, BINARY, referencing every source instance of the series
  (read with pydicom from ``Volume.source_paths``, one file per axial slice). Segments are
  coded in SNOMED CT from their names (:mod:`.seg_codes`; "Tissue" only when unknown), and
  orientations equal within :data:`ORIENTATION_TOLERANCE` count as one.

A segment no person has accepted leaves marked as such: its DICOM-SEG SegmentDescription
and the SeriesDescription say DRAFT, and a NIfTI label map gets a JSON sidecar naming every
label (value, name, status) plus a header description listing the drafts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import json

import numpy as np

from medstation.errors import UserFacingError
from medstation.segmentation.seg_codes import segment_codes


class SegExportError(UserFacingError, ValueError):
    """The series or the segments cannot make a valid DICOM-SEG (a sentence for the user)."""


@dataclass(frozen=True)
class ExportSegment:
    """What an exporter needs of one segment: number (1..N), name, 0/1 (z, y, x) mask, AI provenance."""

    number: int
    name: str
    mask: np.ndarray
    algorithm: str = "LiteMedSAM"
    algorithm_version: str = ""
    draft: bool = False  # True: nobody accepted it (AI output or an edit after acceptance)


DRAFT_NOTE = "DRAFT: not accepted by a person"


def drafts_note(segments: list[ExportSegment]) -> str:
    """"" when every segment was accepted, else "DRAFT: <names>" (what an export says about itself)."""
    names = [s.name for s in sorted(segments, key=lambda s: s.number) if s.draft]
    return f"DRAFT: {', '.join(names)}" if names else ""


def sidecar_path(nifti_path: str | Path) -> Path:
    """``labels.nii.gz`` → ``labels.json``: where a NIfTI export names its labels."""
    path = Path(nifti_path)
    stem = path.name[: -len(".nii.gz")] if path.name.endswith(".nii.gz") else path.stem
    return path.with_name(stem + ".json")


def label_map(segments: list[ExportSegment], shape: tuple[int, int, int]) -> np.ndarray:
    """uint8 (z, y, x); where segments overlap the higher number wins (stated, not hidden)."""
    labels = np.zeros(shape, np.uint8)
    for seg in sorted(segments, key=lambda s: s.number):
        labels[np.asarray(seg.mask, bool)] = seg.number
    return labels


# NIfTI stores RAS world coordinates, the Volume (like DICOM) LPS: the first two axes change sign.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def _ras_affine(volume) -> np.ndarray:
    """4×4 voxel (i=x, j=y, k=z) → RAS mm affine of ``volume`` (spacing (dz, dy, dx), LPS origin and direction)."""
    dz, dy, dx = (float(s) for s in volume.spacing)
    direction = np.asarray(volume.direction, float).reshape(3, 3)  # columns: the x, y, z index axes in LPS
    affine = np.eye(4)
    affine[:3, :3] = _LPS_TO_RAS @ direction @ np.diag([dx, dy, dz])
    affine[:3, 3] = _LPS_TO_RAS @ np.asarray(volume.origin, float)
    return affine


def export_nifti(segments: list[ExportSegment], volume, path: str | Path) -> Path:
    """Write the label map as ``.nii.gz`` in the series geometry (nibabel; qform and sform both scanner); returns the path."""
    import nibabel as nib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels_zyx = label_map(segments, volume.pixels.shape)
    affine = _ras_affine(volume)
    image = nib.Nifti1Image(np.ascontiguousarray(labels_zyx.transpose(2, 1, 0)), affine)  # index order (x, y, z)
    image.header.set_data_dtype(np.uint8)
    image.header.set_qform(affine, code=1)
    image.header.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    # NIfTI: 80 bytes; cut on a character boundary (an accented name is two bytes a letter)
    descrip = (drafts_note(segments) or "MedStation segmentation").encode()[:79].decode("utf-8", "ignore")
    image.header["descrip"] = descrip.encode()
    nib.save(image, str(path))
    labels = [{"value": s.number, "name": s.name, "status": "draft" if s.draft else "accepted",
               "algorithm": s.algorithm, "algorithm_version": s.algorithm_version}
              for s in sorted(segments, key=lambda s: s.number)]
    sidecar_path(path).write_text(json.dumps({"image": path.name, "series_uid": volume.series_uid, "labels": labels,
                                              "drafts": [x["name"] for x in labels if x["status"] == "draft"]},
                                             indent=2))
    return path


def read_nifti_labels(path: str | Path):
    """(uint8 (z, y, x) labels, spacing (dz, dy, dx), origin (x, y, z), direction 3×3) in LPS, as the Volume."""
    import nibabel as nib

    image = nib.load(str(path))
    labels = np.asarray(image.dataobj).transpose(2, 1, 0)
    lps = _LPS_TO_RAS @ image.affine[:3, :3]
    dx, dy, dz = (float(v) for v in np.linalg.norm(lps, axis=0))
    origin = tuple(float(v) for v in _LPS_TO_RAS @ image.affine[:3, 3])
    return np.ascontiguousarray(labels), (dz, dy, dx), origin, lps / np.array([dx, dy, dz])


def _coded(value: str, meaning: str):
    from highdicom.sr.coding import CodedConcept

    return CodedConcept(value=value, scheme_designator="SCT", meaning=meaning)


# Orientation cosines that differ by less than this are one orientation: scanners write values that
# differ in the 8th decimal (the GE phantom series), the loader accepts them, and so must the SEG.
ORIENTATION_TOLERANCE = 1e-4


def _share_orientation(sources) -> None:
    """Give every source (in memory) the first one's ImageOrientationPatient when all agree within tolerance.

    highdicom compares orientations exactly; a real difference still raises, with the size of it."""
    first = np.asarray([float(v) for v in sources[0].ImageOrientationPatient])
    for ds in sources[1:]:
        iop = np.asarray([float(v) for v in ds.ImageOrientationPatient])
        worst = float(np.abs(iop - first).max())
        if worst > ORIENTATION_TOLERANCE:
            raise SegExportError(f"DICOM-SEG export needs one orientation; source slices differ by {worst:.2g} "
                             f"(more than {ORIENTATION_TOLERANCE:g})")
        ds.ImageOrientationPatient = sources[0].ImageOrientationPatient


def export_dicom_seg(segments: list[ExportSegment], volume, path: str | Path, *, series_number: int = 900,
                     software_version: str = "0.1.0") -> Path:
    """Write a BINARY DICOM-SEG referencing the source series; empty frames are omitted."""
    import highdicom as hd
    import pydicom
    from pydicom.uid import generate_uid

    if not segments:
        raise SegExportError("no segments to export")
    if len(set(volume.source_paths)) != volume.pixels.shape[0]:
        raise SegExportError("DICOM-SEG export needs one source file per slice (multi-frame sources are not supported)")
    sources = [_with_identity(pydicom.dcmread(p), volume, k) for k, p in enumerate(volume.source_paths)]
    if all("ImageOrientationPatient" in ds for ds in sources):
        _share_orientation(sources)
    masks = np.stack([np.asarray(s.mask, bool) for s in sorted(segments, key=lambda s: s.number)], axis=-1)
    coded = [segment_codes(seg.name) for seg in sorted(segments, key=lambda s: s.number)]
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=i + 1,
            segment_label=_lo_text(seg.name),
            segmented_property_category=_coded(*coded[i].category),
            segmented_property_type=_coded(*coded[i].type),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                name=seg.algorithm, version=seg.algorithm_version or "unknown", family=_ai_family()
            ),
        )
        for i, seg in enumerate(sorted(segments, key=lambda s: s.number))
    ]
    for description, seg in zip(descriptions, sorted(segments, key=lambda s: s.number)):
        if seg.draft:
            description.SegmentDescription = DRAFT_NOTE
    note = drafts_note(segments)
    seg_ds = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="MedStation",
        manufacturer_model_name="MedStation segmentation",
        software_versions=software_version,
        device_serial_number="0",
        series_description=_lo_text(f"MedStation segmentation ({note})") if note else "MedStation segmentation",
    )
    # Names are the user's words ("Läsion", "肝臓"): written as UTF-8, and said so (without this pydicom wrote
    # Latin-1 bytes into a file that declares the default repertoire, or "??" for what Latin-1 lacks).
    seg_ds.SpecificCharacterSet = "ISO_IR 192"
    if not all("ImageOrientationPatient" in ds for ds in sources):
        # No patient plane (a radiograph, a secondary capture): the SEG has no plane orientation either, so its
        # General Image module needs PatientOrientation (type 2C, may be empty); highdicom does not write it.
        seg_ds.PatientOrientation = sources[0].get("PatientOrientation", "") or ""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seg_ds.save_as(str(path))
    return path


def _lo_text(text: str) -> str:
    """``text`` as a DICOM LO value: control characters (a tab, a newline) become spaces, at most 64 characters."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text).strip()[:64]


def _with_identity(ds, volume, index: int):
    """Fill UIDs that anonymisation blanked (the sample CT has empty SOP/series/study UIDs) with the ones
    the Volume already uses for that slice, so the SEG references what the viewer shows. In memory only."""
    from pydicom.uid import generate_uid

    meta = getattr(ds, "file_meta", None)
    if not ds.get("SOPClassUID") and meta is not None:
        ds.SOPClassUID = meta.get("MediaStorageSOPClassUID", "")
    if not ds.get("SOPInstanceUID"):
        ds.SOPInstanceUID = volume.sop_uids[index]
    if not ds.get("SeriesInstanceUID"):
        ds.SeriesInstanceUID = volume.series_uid
    if not ds.get("StudyInstanceUID"):
        ds.StudyInstanceUID = volume.study_uid
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyID", "StudyDate",
                    "StudyTime", "AccessionNumber", "ReferringPhysicianName"):
        if keyword not in ds:  # type 2 attributes highdicom copies: present, possibly empty
            setattr(ds, keyword, "")
    if not ds.get("FrameOfReferenceUID"):
        ds.FrameOfReferenceUID = generate_uid(entropy_srcs=["frame-of-reference", volume.series_uid])
    return ds


def _ai_family():
    from highdicom.sr.coding import CodedConcept

    return CodedConcept(value="129465004", scheme_designator="SCT", meaning="Artificial Intelligence")


def read_dicom_seg(path: str | Path, source_sop_uids: list[str]) -> np.ndarray:
    """Read a DICOM-SEG back as bool (z, y, x, n_segments), one plane per ``source_sop_uids`` entry."""
    import highdicom as hd

    seg = hd.seg.segread(str(path))
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=list(source_sop_uids), assert_missing_frames_are_empty=True
    )
    return np.asarray(pixels, bool)
