"""DICOM-SEG: near-equal orientations accepted, SNOMED CT segment codes, no new dciodvfy errors."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from medstation.imaging.dicom_validate import dciodvfy_available, dciodvfy_errors, new_errors
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.segmentation.export import ExportSegment, export_dicom_seg
from medstation.segmentation.seg_codes import segment_codes


@pytest.fixture
def series(tmp_path):
    paths = write_series(tmp_path / "series", SeriesSpec(n_slices=5, rows=24, columns=32))
    return paths, load_series(JobContext(), paths)


def _mask(shape):
    m = np.zeros(shape, np.uint8)
    m[1:4, 5:12, 8:20] = 1
    return m


def _perturb_orientation(paths, delta):
    for k, p in enumerate(paths):
        ds = pydicom.dcmread(p)
        iop = [float(v) for v in ds.ImageOrientationPatient]
        iop[0] -= delta * (k % 2)
        ds.ImageOrientationPatient = [f"{v:.10f}" for v in iop]
        ds.save_as(p)


def test_orientations_equal_within_tolerance_are_one_orientation(series, tmp_path):
    paths, vol = series
    _perturb_orientation(paths, 3e-8)  # as in the GE MPRAGE phantom series
    path = export_dicom_seg([ExportSegment(1, "liver", _mask(vol.pixels.shape))], vol, tmp_path / "seg.dcm")
    assert pydicom.dcmread(path).NumberOfFrames == 3


def test_a_real_orientation_difference_is_refused(series, tmp_path):
    paths, vol = series
    _perturb_orientation(paths, 1e-2)
    from medstation.segmentation.export import SegExportError

    with pytest.raises(SegExportError, match="one orientation"):
        export_dicom_seg([ExportSegment(1, "liver", _mask(vol.pixels.shape))], vol, tmp_path / "seg.dcm")


def test_segments_get_snomed_codes_and_tissue_only_when_unknown(series, tmp_path):
    _, vol = series
    names = ["Left kidney", "liver", "nodule 2", "my region"]
    segs = [ExportSegment(i + 1, n, _mask(vol.pixels.shape)) for i, n in enumerate(names)]
    ds = pydicom.dcmread(export_dicom_seg(segs, vol, tmp_path / "seg.dcm"))
    coded = [(s.SegmentedPropertyCategoryCodeSequence[0].CodeMeaning, s.SegmentedPropertyTypeCodeSequence[0].CodeValue,
              s.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator) for s in ds.SegmentSequence]
    assert coded == [("Anatomical Structure", "64033007", "SCT"), ("Anatomical Structure", "10200004", "SCT"),
                     ("Morphologically Abnormal Structure", "27925004", "SCT"), ("Tissue", "85756007", "SCT")]
    assert segment_codes("Kidneys").known and not segment_codes("region 7").known


@pytest.mark.skipif(not dciodvfy_available(), reason="dciodvfy missing: run scripts/setup.sh (dicom3tools)")
def test_dicom_seg_adds_no_dciodvfy_errors(series, tmp_path):
    paths, vol = series
    path = export_dicom_seg([ExportSegment(1, "liver", _mask(vol.pixels.shape))], vol, tmp_path / "seg.dcm")
    assert new_errors(dciodvfy_errors(paths[0]), dciodvfy_errors(path)) == []


def _write_radiograph(path):
    """One DX image as a radiograph is stored: no ImageOrientationPatient or position, a PatientOrientation."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "DX", "Doe^Jane", "PID-7"
    ds.PatientOrientation = ["A", "F"]
    ds.Rows, ds.Columns = 40, 32
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImagerPixelSpacing = ["0.15", "0.15"]
    ds.PixelData = (np.arange(40 * 32) % 4096).astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_dicom_seg_of_a_radiograph_says_its_patient_orientation(tmp_path):
    """A SEG of an image without a patient plane has no plane orientation, so its General Image module needs
    PatientOrientation (type 2C); 7d7286b left it out (dciodvfy: 'Missing attribute Type 2C ... PatientOrientation')."""
    source = _write_radiograph(tmp_path / "dx.dcm")
    vol = load_series(JobContext(), [source])
    mask = np.zeros(vol.pixels.shape, np.uint8)
    mask[0, 5:20, 4:12] = 1
    path = export_dicom_seg([ExportSegment(1, "lung", mask)], vol, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    assert list(ds.PatientOrientation) == ["A", "F"]
    if dciodvfy_available():
        assert new_errors(dciodvfy_errors(source), dciodvfy_errors(path)) == []


def test_segment_names_outside_ascii_survive_a_dicom_seg(series, tmp_path):
    """'Läsion' was written as Latin-1 bytes with no SpecificCharacterSet (dciodvfy: 'Character invalid for
    character repertoire') and '肝臓' became '??' on 7d7286b; a tab in a name is not allowed in an LO value."""
    paths, vol = series
    names = ["Läsion", "肝臓", "left\tlobe"]
    segs = [ExportSegment(i + 1, n, _mask(vol.pixels.shape), draft=True) for i, n in enumerate(names)]
    path = export_dicom_seg(segs, vol, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert [s.SegmentLabel for s in ds.SegmentSequence] == ["Läsion", "肝臓", "left lobe"]
    if dciodvfy_available():
        assert new_errors(dciodvfy_errors(paths[0]), dciodvfy_errors(path)) == []


@pytest.mark.skipif(not dciodvfy_available(), reason="dciodvfy missing: run scripts/setup.sh (dicom3tools)")
def test_dciodvfy_errors_reads_a_report_that_quotes_latin1_bytes(series, tmp_path):
    """dciodvfy quotes a bad value in the file's own bytes; 7d7286b's reader raised UnicodeDecodeError on them."""
    paths, _vol = series
    ds = pydicom.dcmread(paths[0])
    ds.PatientName = "Müller^Jürgen"  # no SpecificCharacterSet: pydicom writes Latin-1 bytes
    ds.save_as(tmp_path / "bad.dcm")
    assert b"M\xfcller" in (tmp_path / "bad.dcm").read_bytes()
    errors = dciodvfy_errors(tmp_path / "bad.dcm")
    assert any("character" in e.lower() for e in errors)
