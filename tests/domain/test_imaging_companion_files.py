"""A folder's README, licence and provenance notes are not reported as skipped images; anything else
that is not DICOM still is (the bundled sample study used to greet every first launch with
"2 file(s) skipped: 2 not a DICOM file" for its LICENSE.txt and PROVENANCE.txt)."""

from __future__ import annotations

import shutil

from medstation.imaging.indexer import index_paths
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext


def test_companion_documents_are_not_problems_but_other_files_are(tmp_path, db):
    folder = tmp_path / "cd"
    write_series(folder, SeriesSpec(n_slices=3))
    (folder / "README.TXT").write_text("Images of patient X. Open with any DICOM viewer.\n")
    (folder / "LICENSE").write_text("CC BY 4.0\n")
    (folder / "PROVENANCE.txt").write_text("exported 2024-01-02\n")
    (folder / "IM0009").write_bytes(b"\x00\x01 not an image at all" * 20)  # no name says what it is
    report = index_paths(JobContext(), db, [folder])
    assert report.scanned == 7
    assert [p.rsplit("/", 1)[-1] for p, _ in report.problems] == ["IM0009"]


def test_a_dicom_file_with_a_document_name_is_still_indexed(tmp_path, db):
    folder = tmp_path / "odd"
    paths = write_series(folder, SeriesSpec(n_slices=2))
    shutil.move(paths[0], folder / "notes.txt")  # a real image, however it is named
    report = index_paths(JobContext(), db, [folder])
    assert report.problems == [] and len(report.series_uids) == 1
    from medstation.imaging.catalog import catalog

    assert [se.n_instances for p in catalog(db) for st in p.studies for se in st.series] == [2]


def test_a_document_picked_by_name_is_still_reported(tmp_path, db):
    readme = tmp_path / "readme.txt"
    readme.write_text("not an image")
    report = index_paths(JobContext(), db, [readme])
    assert [(p.rsplit("/", 1)[-1], r) for p, r in report.problems] == [("readme.txt", "not a DICOM file")]
