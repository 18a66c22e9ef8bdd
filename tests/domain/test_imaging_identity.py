"""Identity of files whose UIDs or patient identity were stripped (issue #20, "work that keeps its name").

A series without UIDs must have the same identity wherever its files lie, so that segments accepted on one
copy reload on another; two different UID-less series must not merge; files without a patient name or ID
are grouped per study, never into one "(no name)" patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom

from medstation.imaging.catalog import catalog
from medstation.imaging.headers import instance_identity
from medstation.imaging.indexer import index_paths
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext


def _strip(paths: list[Path], *, uids: bool = True, patient: bool = False) -> None:
    for p in paths:
        ds = pydicom.dcmread(p)
        if uids:
            for kw in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
                setattr(ds, kw, "")
            ds.file_meta.MediaStorageSOPInstanceUID = ""
        if patient:
            ds.PatientName = ""
            ds.PatientID = ""
        ds.save_as(p)


def _uid_less_copy(tmp_path: Path, name: str = "a", **spec) -> list[Path]:
    paths = write_series(tmp_path / name, SeriesSpec(n_slices=4, **spec))
    _strip(paths)
    return paths


def _identities(paths) -> set[tuple[str, str]]:
    return {instance_identity(pydicom.dcmread(p, stop_before_pixels=True), p)[1:] for p in paths}


def test_a_uid_less_series_has_the_same_identity_in_another_folder(tmp_path):
    first = _uid_less_copy(tmp_path)
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "copy")
    second = sorted((tmp_path / "elsewhere" / "copy").iterdir())
    assert len(_identities(first)) == 1
    assert _identities(first) == _identities(second)
    sops_first = {instance_identity(pydicom.dcmread(p, stop_before_pixels=True), p)[0] for p in first}
    sops_second = {instance_identity(pydicom.dcmread(p, stop_before_pixels=True), p)[0] for p in second}
    assert sops_first == sops_second and len(sops_first) == 4


def test_two_different_uid_less_series_keep_two_identities(tmp_path):
    a = _uid_less_copy(tmp_path, "a")
    b = _uid_less_copy(tmp_path, "b", series_description="Other series", origin=(0.0, 0.0, 90.0))
    assert _identities(a).isdisjoint(_identities(b))


def test_the_same_uid_less_images_from_two_folders_index_as_one_series(tmp_path, db):
    _uid_less_copy(tmp_path)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    index_paths(JobContext(), db, [tmp_path / "a"])
    uid_a = catalog(db)[0].studies[0].series[0].series_uid
    report = index_paths(JobContext(), db, [tmp_path / "b"])
    tree = catalog(db)
    assert len(tree) == 1 and len(tree[0].studies) == 1 and len(tree[0].studies[0].series) == 1
    series = tree[0].studies[0].series[0]
    assert series.series_uid == uid_a and series.n_instances == 4
    assert report.series_uids == [uid_a]


def test_files_without_patient_identity_are_not_merged_into_one_patient(tmp_path, db):
    for name, origin in (("one", (0.0, 0.0, 0.0)), ("two", (5.0, 5.0, 60.0))):
        paths = write_series(tmp_path / name, SeriesSpec(n_slices=3, origin=origin, series_description=name))
        _strip(paths, uids=False, patient=True)  # two different studies, both without a patient name or ID
        new_study = pydicom.uid.generate_uid()
        for p in paths:
            ds = pydicom.dcmread(p)
            ds.StudyInstanceUID = new_study
            ds.save_as(p)
    index_paths(JobContext(), db, [tmp_path])
    patients = catalog(db)
    assert len(patients) == 2
    assert all(len(p.studies) == 1 for p in patients)


def test_a_changed_pixel_in_a_uid_less_file_is_another_instance(tmp_path):
    (path, *_rest) = _uid_less_copy(tmp_path)
    before = instance_identity(pydicom.dcmread(path, stop_before_pixels=True), path)[0]
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array.copy()
    arr[0, 0] = np.asarray(arr[0, 0] + 7).astype(arr.dtype)
    ds.PixelData = arr.tobytes()
    other = tmp_path / "edited.dcm"
    ds.save_as(other)
    after = instance_identity(pydicom.dcmread(other, stop_before_pixels=True), other)[0]
    assert before != after


def test_segments_saved_under_the_old_folder_derived_uid_follow_the_series(tmp_path, db):
    from medstation.imaging.headers import legacy_folder_series_uid
    from medstation.store.tables import Segmentation

    paths = _uid_less_copy(tmp_path)
    legacy = legacy_folder_series_uid(pydicom.dcmread(paths[0], stop_before_pixels=True), paths[0])
    with db.session() as s:
        s.add(Segmentation(series_uid=legacy, name="Liver"))
        s.commit()
    index_paths(JobContext(), db, [tmp_path / "a"])
    uid = catalog(db)[0].studies[0].series[0].series_uid
    assert uid != legacy
    with db.session() as s:
        from sqlmodel import select

        assert [r.name for r in s.exec(select(Segmentation).where(Segmentation.series_uid == uid)).all()] == ["Liver"]
