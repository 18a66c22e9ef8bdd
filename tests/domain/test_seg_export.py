"""NIfTI and DICOM-SEG exports re-import to the same masks in the same geometry."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.segmentation.export import (
    ExportSegment, export_dicom_seg, export_nifti, label_map, read_dicom_seg, read_nifti_labels,
)


@pytest.fixture
def oblique_series(tmp_path):
    """A small synthetic CT with tilted orientation and anisotropic pixels, loaded as the viewer would."""
    c, s = np.cos(0.3), np.sin(0.3)
    spec = SeriesSpec(n_slices=6, rows=24, columns=32, pixel_spacing=(0.8, 0.6), slice_step=2.5,
                      orientation=(c, s, 0.0, 0.0, 0.0, -1.0))
    write_series(tmp_path / "series", spec)
    return load_series(JobContext(), sorted((tmp_path / "series").iterdir()))


def two_segments(shape):
    a = np.zeros(shape, np.uint8)
    a[1:4, 5:12, 8:20] = 1
    b = np.zeros(shape, np.uint8)
    b[3:5, 15:20, 2:6] = 1
    return [ExportSegment(1, "lesion", a, "LiteMedSAM", "litemedsam:79d8c9dca6db"), ExportSegment(2, "cyst", b)]


def test_nifti_round_trip_keeps_mask_and_geometry(oblique_series, tmp_path):
    vol = oblique_series
    segs = two_segments(vol.pixels.shape)
    path = export_nifti(segs, vol, tmp_path / "labels.nii.gz")
    labels, spacing, origin, direction = read_nifti_labels(path)
    assert np.array_equal(labels, label_map(segs, vol.pixels.shape))
    np.testing.assert_allclose(spacing, vol.spacing, atol=1e-4)
    np.testing.assert_allclose(origin, vol.origin, atol=1e-3)
    np.testing.assert_allclose(direction, vol.direction, atol=1e-4)
    # nibabel reads it in RAS: LPS x and y flip sign, and voxel (0,0,0) lands on the volume origin
    import nibabel as nib

    affine = nib.load(str(path)).affine
    corner = vol.voxel_to_patient(2, 3, 4)
    ras = affine @ np.array([4, 3, 2, 1.0])
    np.testing.assert_allclose(ras[:3], corner * np.array([-1, -1, 1]), atol=1e-3)


def test_nifti_written_without_simpleitk_reads_the_same_in_simpleitk(oblique_series, tmp_path):
    """The bundle writes NIfTI with nibabel (SimpleITK is 264 MB); SimpleITK/ITK-SNAP must see the same geometry."""
    sitk = pytest.importorskip("SimpleITK")
    vol = oblique_series
    segs = two_segments(vol.pixels.shape)
    image = sitk.ReadImage(str(export_nifti(segs, vol, tmp_path / "labels.nii.gz")))
    assert np.array_equal(sitk.GetArrayFromImage(image), label_map(segs, vol.pixels.shape))
    np.testing.assert_allclose(image.GetSpacing()[::-1], vol.spacing, atol=1e-4)
    np.testing.assert_allclose(image.GetOrigin(), vol.origin, atol=1e-3)
    np.testing.assert_allclose(np.reshape(image.GetDirection(), (3, 3)), vol.direction, atol=1e-4)
    from medstation.segmentation.export import drafts_note

    assert image.GetMetaData("descrip") == (drafts_note(segs) or "MedStation segmentation")


def test_dicom_seg_round_trip_per_source_instance(oblique_series, tmp_path):
    vol = oblique_series
    segs = two_segments(vol.pixels.shape)
    path = export_dicom_seg(segs, vol, tmp_path / "seg.dcm")
    back = read_dicom_seg(path, vol.sop_uids)
    assert back.shape == vol.pixels.shape + (2,)
    assert np.array_equal(back[..., 0], segs[0].mask.astype(bool))
    assert np.array_equal(back[..., 1], segs[1].mask.astype(bool))
    import highdicom as hd

    seg = hd.seg.segread(str(path))
    assert seg.SeriesDescription == "MedStation segmentation"
    assert [seg.get_segment_description(n).SegmentLabel for n in (1, 2)] == ["lesion", "cyst"]
    referenced = {item.ReferencedSOPInstanceUID for s in seg.ReferencedSeriesSequence
                  for item in s.ReferencedInstanceSequence}
    assert referenced == set(vol.sop_uids)


def test_dicom_seg_needs_sources(oblique_series, tmp_path):
    from dataclasses import replace

    with pytest.raises(ValueError, match="one source file per slice"):
        export_dicom_seg(two_segments(oblique_series.pixels.shape), replace(oblique_series, source_paths=[]),
                         tmp_path / "x.dcm")


def test_nifti_description_of_drafts_with_accented_names_is_whole_utf8(oblique_series, tmp_path):
    """The 80-byte NIfTI description was cut after 79 characters, so 'Läsion…' names ended in half a character
    (7d7286b: the header's descrip was not valid UTF-8)."""
    import nibabel as nib

    vol = oblique_series
    mask = np.zeros(vol.pixels.shape, np.uint8)
    mask[1, 2:6, 2:6] = 1
    path = export_nifti([ExportSegment(1, "Läsion " + "é" * 60, mask, draft=True)], vol, tmp_path / "l.nii.gz")
    descrip = nib.load(str(path)).header["descrip"].tobytes().rstrip(b"\0")
    assert descrip.decode("utf-8").startswith("DRAFT: Läsion")
