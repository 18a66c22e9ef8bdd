"""A series opened from some of its files says so; the sample CT (blank UIDs) keeps one stable identity."""

from __future__ import annotations

from pathlib import Path

import pydicom

from medstation.imaging.completeness import unopened_siblings
from medstation.imaging.headers import instance_identity
from medstation.imaging.synthetic import SeriesSpec, write_series

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample_ct"


def test_subset_of_a_series_is_detected(tmp_path):
    paths = write_series(tmp_path / "s", SeriesSpec(n_slices=6))
    write_series(tmp_path / "s" / "other", SeriesSpec(n_slices=2))  # another series in a sub-folder: not counted
    (tmp_path / "s" / "notes.txt").write_text("not dicom")
    uid = str(pydicom.dcmread(paths[0]).SeriesInstanceUID)
    assert sorted(unopened_siblings(uid, paths[:2])) == sorted(str(p.resolve()) for p in paths[2:])
    assert unopened_siblings(uid, paths) == []


def test_sample_ct_subset_has_stable_derived_identity_and_is_flagged():
    files = sorted(p for p in SAMPLE.iterdir() if p.name.startswith("CT"))
    ids = [instance_identity(pydicom.dcmread(p, stop_before_pixels=True), p) for p in files]
    assert len({i[1] for i in ids}) == 1 and len({i[0] for i in ids}) == len(files)  # one series, one UID per file
    again = [instance_identity(pydicom.dcmread(p, stop_before_pixels=True), p) for p in files[:5]]
    assert again == ids[:5]  # the same files get the same identifiers every time
    assert len(unopened_siblings(ids[0][1], files[:5])) == len(files) - 5
