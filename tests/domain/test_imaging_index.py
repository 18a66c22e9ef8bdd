"""Header-only indexing into the store, the catalog tree, the service and the ``index`` command."""

from __future__ import annotations

import os

from medstation.imaging.catalog import catalog, series_paths
from medstation.imaging.indexer import index_paths
from medstation.access.roles import UserSession
from medstation.imaging.service import ImagingService
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.imaging.tags import list_tags
from medstation.jobs import JobContext


def test_index_builds_patient_study_series_tree(tmp_path, db):
    tmp_path = tmp_path / "data"  # tmp_path/home holds the database
    write_series(tmp_path / "ct", SeriesSpec(n_slices=5))
    write_series(tmp_path / "nested" / "mr", SeriesSpec(n_slices=3, modality="MR", patient_name="Roe^Rick", patient_id="P2", series_description="T1"))
    (tmp_path / "junk.bin").write_bytes(b"hello")  # not DICOM and no document name: reported
    report = index_paths(JobContext(), db, [tmp_path])
    assert (report.scanned, report.added, len(report.problems)) == (9, 8, 1)
    assert report.problems[0][1] == "not a DICOM file"
    tree = catalog(db)
    assert [p.display_name for p in tree] == ["Doe Jane", "Roe Rick"]
    series = tree[1].studies[0].series[0]
    assert (series.modality, series.description, series.n_instances, series.rows, series.columns) == ("MR", "T1", 3, 32, 40)
    assert tree[0].studies[0].date == "20240102" and tree[0].studies[0].modalities == "CT"
    assert len(series_paths(db, series.series_uid)) == 3


def test_index_is_incremental_and_notices_changes(tmp_path, db):
    paths = write_series(tmp_path, SeriesSpec(n_slices=4))
    first = index_paths(JobContext(), db, [tmp_path])
    again = index_paths(JobContext(), db, [tmp_path])
    assert (first.added, again.added, again.unchanged) == (4, 0, 4)
    assert again.series_uids == first.series_uids  # re-opening a known folder still names its series
    st = paths[0].stat()
    os.utime(paths[0], (st.st_atime, st.st_mtime + 10))
    paths[1].unlink()
    third = index_paths(JobContext(), db, [tmp_path])
    assert (third.updated, third.unchanged, third.removed) == (1, 2, 1)
    assert catalog(db)[0].studies[0].series[0].n_instances == 3


def test_service_indexes_sample_and_loads_it(settings, db):
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    report = service.index_sample_job(JobContext())
    assert report.added == 20
    series = service.patients()[0].studies[0].series[0]
    assert series.n_instances == 20 and series.modality == "CT"
    # Blank UIDs in the anonymised sample get stable derived ones: indexing again changes nothing.
    assert service.index_sample_job(JobContext()).unchanged == 20
    rows = service.tags(service.series_files(series.series_uid)[0])
    assert any(r.keyword == "SeriesDescription" and r.value == "CT Body 3.0" for r in rows)
    assert any(r.keyword == "TransferSyntaxUID" for r in rows)


def test_tag_listing_expands_sequences(tmp_path):
    from medstation.imaging.synthetic import write_multiframe

    rows = list_tags(write_multiframe(tmp_path / "mf.dcm", SeriesSpec(n_slices=2)))
    seq = [r for r in rows if r.keyword == "PerFrameFunctionalGroupsSequence"][0]
    assert seq.vr == "SQ" and seq.value == "2 item(s)"
    nested = [r for r in rows if r.keyword == "ImagePositionPatient"]
    assert len(nested) == 2 and all(r.depth >= 2 for r in nested)


def test_index_command_prints_tree(tmp_path, capsys):
    from medstation.cli import main

    write_series(tmp_path / "s", SeriesSpec(n_slices=3, series_description="Chest"))
    assert main(["index", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Patient Doe Jane [PID-0001]" in out
    assert "Series 3 CT Chest: 3 images 32x40" in out


def test_indexed_load_skips_parsing_and_matches_direct_load(tmp_path, settings, db, monkeypatch):
    import numpy as np

    from medstation.imaging import loader
    from medstation.imaging.catalog import series_load_inputs

    paths = write_series(tmp_path / "s", SeriesSpec(n_slices=5))
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    uid = service.index_job(JobContext(), [tmp_path / "s"]).series_uids[0]
    files, cache = series_load_inputs(db, uid)
    assert len(cache) == 5 and all(entry["pixel"] for entry in cache.values())
    direct = loader.load_series(JobContext(), paths)
    parsed = []
    monkeypatch.setattr(loader, "read_dataset", lambda p: parsed.append(p) or (None, "should not be parsed"))
    via_index = service.load_series_job(JobContext(), uid)
    assert parsed == []
    np.testing.assert_array_equal(via_index.pixels, direct.pixels)
    assert (via_index.spacing, via_index.origin, via_index.window) == (direct.spacing, direct.origin, direct.window)
    assert via_index.meta["patient_name"] == direct.meta["patient_name"]
    # A file changed after indexing is parsed again, not trusted from the cache.
    st = paths[0].stat()
    os.utime(paths[0], (st.st_atime, st.st_mtime + 5))
    assert str(paths[0]) not in series_load_inputs(db, uid)[1]


def test_pixel_offset_is_only_trusted_when_the_element_header_matches(tmp_path):
    import pydicom

    from medstation.imaging.decode import native_pixel_location

    path = write_series(tmp_path, SeriesSpec(n_slices=1))[0]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    loc = native_pixel_location(ds, str(path), path.stat().st_size)
    assert loc["offset"] == path.stat().st_size - 32 * 40 * 2 and loc["dtype"] == "<i2"
    full = pydicom.dcmread(path)
    full.DataSetTrailingPadding = b"\0" * 8  # pixel data no longer last: the guess must be refused
    full.save_as(path)
    assert native_pixel_location(ds, str(path), path.stat().st_size) is None


def test_a_copy_of_an_indexed_file_is_skipped_with_a_reason_not_a_crash(tmp_path, db):
    import shutil

    tmp_path = tmp_path / "data"  # tmp_path/home holds the database
    paths = write_series(tmp_path / "a", SeriesSpec(n_slices=3))
    (tmp_path / "b").mkdir()
    shutil.copy(paths[1], tmp_path / "b" / "copy.dcm")  # same SOP Instance UID, another file
    report = index_paths(JobContext(), db, [tmp_path])
    assert report.added == 3
    assert [reason for _, reason in report.problems] == [f"same SOP Instance UID as {paths[1]} (a copy?): skipped"]
    series = catalog(db)[0].studies[0].series[0]
    assert series.n_instances == 3


def test_a_broken_copy_of_an_indexed_image_does_not_replace_it(tmp_path, db):
    """A folder holding a truncated copy of one image of an indexed series (a half-copied USB stick) must not
    take that image away: on 7d7286b the index moved the image to the broken copy and the series lost a slice."""
    from medstation.imaging.loader import load_series

    paths = write_series(tmp_path / "good", SeriesSpec(n_slices=4))
    index_paths(JobContext(), db, [tmp_path / "good"])
    uid = catalog(db)[0].studies[0].series[0].series_uid
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / "part.dcm").write_bytes(paths[0].read_bytes()[:1500])  # header only: pixels cut off
    report = index_paths(JobContext(), db, [tmp_path / "usb"])
    assert report.series_uids == [uid]  # the copy still names its series (opening the folder opens it)
    assert sorted(series_paths(db, uid)) == sorted(str(p.resolve()) for p in paths)
    assert load_series(JobContext(), series_paths(db, uid), series_uid=uid).shape[0] == 4
    assert "already indexed" in report.summary()


def test_a_series_whose_files_are_gone_says_so(tmp_path, settings, db):
    """7d7286b said 'unreadable DICOM (FileNotFoundError: [Errno 2] ...)' for every file, as if they were
    corrupt; the files were moved or deleted after indexing, and the message must say that and where."""
    import shutil

    import pytest

    from medstation.imaging.headers import ImagingError

    paths = write_series(tmp_path / "usb" / "ct", SeriesSpec(n_slices=3))
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    uid = service.index_job(JobContext(), [tmp_path / "usb"]).series_uids[0]
    paths[0].unlink()
    one_gone = service.load_series_job(JobContext(), uid)
    assert one_gone.shape[0] == 2 and "not found" in one_gone.meta["skipped"][0][1]
    shutil.rmtree(tmp_path / "usb")
    with pytest.raises(ImagingError, match=r"moved or deleted") as refused:
        service.load_series_job(JobContext(), uid)
    assert "ct" in str(refused.value) and "FileNotFoundError" not in str(refused.value)
