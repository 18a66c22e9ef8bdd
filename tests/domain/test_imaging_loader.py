"""Volume loading: ordering, geometry, rescale, multi-frame, 4D, and bad files (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medstation.imaging.headers import ImagingError
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, expected_slice, phantom_value, slice_positions, write_multiframe, write_series
from medstation.jobs import Cancelled, JobContext


def _oblique_orientation(angle_deg: float = 30.0, tilt_deg: float = 20.0) -> tuple[float, ...]:
    a, b = math.radians(angle_deg), math.radians(tilt_deg)
    row = np.array([math.cos(a), math.sin(a), 0.0])
    col = np.array([-math.sin(a) * math.cos(b), math.cos(a) * math.cos(b), -math.sin(b)])
    return tuple(row) + tuple(col)


def _assert_phantom(volume, spec: SeriesSpec, samples: int = 40, time_point: int = 0) -> None:
    """Every sampled voxel holds the phantom value of its patient position: ordering + geometry are right."""
    rng = np.random.default_rng(1)
    nz, ny, nx = volume.shape
    for _ in range(samples):
        z, y, x = int(rng.integers(nz)), int(rng.integers(ny)), int(rng.integers(nx))
        expected = phantom_value(volume.voxel_to_patient(z, y, x)) + 10.0 * time_point
        stored = np.round((expected - spec.intercept) / spec.slope) * spec.slope + spec.intercept
        assert volume.pixels[z, y, x] == pytest.approx(stored, abs=1e-3), (z, y, x)


def test_shuffled_axial_series_is_ordered_by_position_not_name(tmp_path):
    spec = SeriesSpec()
    paths = write_series(tmp_path, spec, shuffle_seed=7)
    vol = load_series(JobContext(), paths)
    assert vol.shape == (spec.n_slices, spec.rows, spec.columns)
    assert vol.pixels.dtype == np.float32
    for k in range(spec.n_slices):
        np.testing.assert_allclose(vol.pixels[k], expected_slice(spec, k))
    # Spacing comes from positions (2.5 mm), not from SliceThickness (99 mm).
    assert vol.spacing == pytest.approx((2.5, 0.8, 0.6))
    assert vol.origin == pytest.approx(spec.origin)
    np.testing.assert_allclose(vol.direction, np.eye(3), atol=1e-6)
    assert vol.modality == "CT" and vol.window == (40.0, 400.0)
    assert len(set(vol.sop_uids)) == spec.n_slices and len(vol.source_paths) == spec.n_slices
    assert vol.meta["patient_name"] == "Doe Jane"


def test_oblique_series_geometry_maps_voxels_to_patient(tmp_path):
    spec = SeriesSpec(orientation=_oblique_orientation(), n_slices=6, slice_step=3.0)
    vol = load_series(JobContext(), write_series(tmp_path, spec, shuffle_seed=3))
    _assert_phantom(vol, spec)
    normal = np.cross(spec.orientation[:3], spec.orientation[3:])
    np.testing.assert_allclose(vol.direction[:, 2], normal, atol=1e-5)
    assert vol.spacing[0] == pytest.approx(3.0, abs=1e-4)


def test_normal_pointing_feet_first_still_ascends_along_normal(tmp_path):
    spec = SeriesSpec(orientation=(1, 0, 0, 0, -1, 0), slice_step=-1.5)  # normal = -Z, positions go +Z
    vol = load_series(JobContext(), write_series(tmp_path, spec))
    _assert_phantom(vol, spec)
    np.testing.assert_allclose(vol.direction[:, 2], [0, 0, -1], atol=1e-6)
    # Ascending along the normal means the first slice is the highest Z.
    assert vol.origin[2] == pytest.approx(slice_positions(spec)[:, 2].max())


def test_rescale_slope_and_intercept_give_modality_units(tmp_path):
    spec = SeriesSpec(slope=2.0, intercept=-1000.0, n_slices=4)
    paths = write_series(tmp_path, spec, shuffle_seed=None)
    vol = load_series(JobContext(), paths)
    _assert_phantom(vol, spec)
    import pydicom

    stored = pydicom.dcmread(paths[0]).pixel_array.astype(np.float64)
    np.testing.assert_allclose(vol.pixels[0], stored * 2.0 - 1000.0)


def test_multiframe_with_per_frame_positions_is_reordered(tmp_path):
    spec = SeriesSpec(n_slices=5, orientation=_oblique_orientation(10, 5))
    vol = load_series(JobContext(), [write_multiframe(tmp_path / "mf.dcm", spec)])
    assert vol.shape == (5, spec.rows, spec.columns)
    _assert_phantom(vol, spec)
    assert vol.spacing[0] == pytest.approx(spec.slice_step, abs=1e-4)


def test_4d_series_is_split_into_time_points(tmp_path):
    spec = SeriesSpec(n_slices=4, time_points=3)
    paths = write_series(tmp_path, spec)
    first = load_series(JobContext(), paths)
    last = load_series(JobContext(), paths, time_point=2)
    assert first.meta["n_time_points"] == 3 and first.shape[0] == 4
    _assert_phantom(first, spec, time_point=0)
    _assert_phantom(last, spec, time_point=2)
    with pytest.raises(ImagingError, match="time point 5"):
        load_series(JobContext(), paths, time_point=5)


def test_uneven_repeated_positions_are_refused_clearly(tmp_path):
    paths = write_series(tmp_path, SeriesSpec(n_slices=4, time_points=2))
    with pytest.raises(ImagingError, match="unevenly"):
        load_series(JobContext(), paths[:-1])


def test_inconsistent_size_is_reported_and_skipped(tmp_path):
    spec = SeriesSpec(n_slices=5)
    paths = write_series(tmp_path / "a", spec)
    odd = write_series(tmp_path / "b", SeriesSpec(n_slices=1, rows=16, columns=16))[0]
    # Make the odd file part of the same series.
    import pydicom

    ds, ref = pydicom.dcmread(odd), pydicom.dcmread(paths[0])
    ds.SeriesInstanceUID, ds.StudyInstanceUID = ref.SeriesInstanceUID, ref.StudyInstanceUID
    ds.save_as(odd)
    vol = load_series(JobContext(), paths + [odd])
    assert vol.shape == (5, spec.rows, spec.columns)
    assert [(p, r) for p, r in vol.meta["skipped"] if p == str(odd)][0][1].startswith("image is 16×16")


def test_corrupt_files_are_reported_with_reason_and_skipped(tmp_path):
    spec = SeriesSpec(n_slices=6)
    paths = write_series(tmp_path, spec, shuffle_seed=None)  # paths in spatial order: [2] and [4] are inner slices
    text = tmp_path / "notes.txt"
    text.write_text("not a dicom file")
    truncated = paths[2]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 500])
    no_pixels = paths[4]
    import pydicom

    ds = pydicom.dcmread(no_pixels)
    del ds.PixelData
    ds.save_as(no_pixels)
    vol = load_series(JobContext(), paths + [text])
    reasons = dict(vol.meta["skipped"])
    assert reasons[str(text)] == "not a DICOM file"
    assert "truncated" in reasons[str(truncated)] or "decoded" in reasons[str(truncated)]
    assert reasons[str(no_pixels)].startswith("no pixel data")
    assert vol.shape[0] == 4
    assert any("non-uniform slice spacing" in n for n in vol.meta["notes"])  # the gaps are told, not hidden


def test_nothing_usable_raises_plain_error(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 300)
    with pytest.raises(ImagingError, match="no loadable images"):
        load_series(JobContext(), [junk])


def test_preview_is_streamed_and_cancel_stops(tmp_path):
    paths = write_series(tmp_path, SeriesSpec(n_slices=6))
    previews = []
    load_series(JobContext(on_partial=previews.append), paths)
    assert [p["kind"] for p in previews] == ["preview", "preview"]
    assert previews[0]["index"] is None and previews[0]["image"].shape == (32, 40)  # first file read
    assert previews[1]["index"] == 3 and previews[1]["n_slices"] == 6  # the middle of the ordered stack
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        load_series(ctx, paths)


def test_indexer_and_loader_share_one_lenient_read(tmp_path):
    """A file without the 128-byte preamble is DICOM for both; a text file is 'not a DICOM file' for both."""
    from medstation.imaging.indexer import read_header
    from medstation.imaging.loader import read_dataset

    path = write_series(tmp_path / "s", SeriesSpec(n_slices=1, rows=8, columns=8))[0]
    raw = path.read_bytes()
    assert raw[128:132] == b"DICM"
    bare = tmp_path / "bare.dcm"
    bare.write_bytes(raw[132:])  # meta group and data set, no preamble, no prefix
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")
    for read in (read_header, read_dataset):
        ds, reason = read(bare)
        assert reason is None and ds.SOPInstanceUID
        assert read(text) == (None, "not a DICOM file")


def test_one_image_sent_twice_does_not_make_the_series_unopenable(tmp_path):
    """A slice re-sent with a new SOP Instance UID (same position) refused the whole series on 7d7286b
    ('repeats slice positions unevenly'); one image per position is shown and the copy is listed as skipped."""
    import pydicom

    spec = SeriesSpec(n_slices=5)
    paths = write_series(tmp_path, spec)
    ds = pydicom.dcmread(paths[0])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(tmp_path / "resent.dcm")
    vol = load_series(JobContext(), paths + [tmp_path / "resent.dcm"])
    assert vol.shape[0] == 5 and vol.meta["n_time_points"] == 1
    _assert_phantom(vol, spec)
    [(path, reason)] = vol.meta["skipped"]
    assert "same slice position" in reason and path in {str(paths[0]), str(tmp_path / "resent.dcm")}
