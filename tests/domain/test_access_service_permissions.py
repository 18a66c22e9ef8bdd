"""Each service enforces its own permission through the session it was built with (not the widgets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from medstation.access.roles import Actor, NotSignedIn, Role, UserSession
from medstation.errors import PermissionDenied
from medstation.store.model_registry import ModelRegistry
from medstation.imaging.service import ImagingService
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.rag.service import KnowledgeBaseService
from medstation.segmentation.records import SegmentRecord
from medstation.segmentation.service import SegmentationService


def _as(role: Role) -> UserSession:
    return UserSession(Actor(f"a-{role.value}", role))


@pytest.fixture
def series(tmp_path, settings, db):
    folder = tmp_path / "ct"
    write_series(folder, SeriesSpec(n_slices=2, rows=8, columns=8))
    ImagingService(settings, db, session=_as(Role.admin)).index_job(JobContext(), [folder])
    return folder


@pytest.mark.parametrize("role, allowed", [(Role.radiologist, True), (Role.read_only, True), (Role.admin, True),
                                           (Role.therapist, False)])
def test_view_imaging(settings, db, series, role, allowed):
    imaging = ImagingService(settings, db, session=_as(role))
    uid = ImagingService(settings, db, session=_as(Role.admin)).patients()[0].studies[0].series[0].series_uid
    if not allowed:
        with pytest.raises(PermissionDenied, match="may not view imaging"):
            imaging.patients()
        with pytest.raises(PermissionDenied):
            imaging.load_series_job(JobContext(), uid)
        with pytest.raises(PermissionDenied):
            imaging.series_files(uid)
        return
    assert imaging.patients()[0].studies[0].series[0].series_uid == uid
    volume = imaging.load_series_job(JobContext(), uid)
    assert volume.pixels.shape[0] == 2
    with db.engine.connect() as conn:
        viewed = conn.execute(text("SELECT actor, role FROM audit_event WHERE action = 'imaging.view'")).fetchall()
    assert [tuple(v) for v in viewed] == [(f"a-{role.value}", role.value)]


@pytest.mark.parametrize("role, allowed", [(Role.radiologist, True), (Role.admin, True),
                                           (Role.read_only, False), (Role.therapist, False)])
def test_export_imaging(settings, db, series, tmp_path, role, allowed):
    uid = ImagingService(settings, db, session=_as(Role.admin)).patients()[0].studies[0].series[0].series_uid
    imaging = ImagingService(settings, db, session=_as(role))
    if not allowed:
        with pytest.raises(PermissionDenied):
            imaging.export_deidentified_job(JobContext(), uid, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        return
    report = imaging.export_deidentified_job(JobContext(), uid, tmp_path / "out")
    assert len(report.files) == 2


@pytest.mark.parametrize("role, allowed", [(Role.radiologist, True), (Role.admin, True),
                                           (Role.read_only, False), (Role.therapist, False)])
def test_edit_imaging_accepting_a_mask(settings, db, role, allowed):
    segmentation = SegmentationService(settings, db, session=_as(role), registry=ModelRegistry(db))
    mask = np.zeros((2, 8, 8), np.uint8)
    record = SegmentRecord("1.2.3", "liver", "#ff0000", mask, mask, "test", None)
    if not allowed:
        with pytest.raises(PermissionDenied, match="may not edit imaging"):
            segmentation.decide(JobContext(), record, None, "accepted", "")
        assert not (Path(settings.home) / "segmentations").exists()
        return
    result = segmentation.decide(JobContext(), record, None, "accepted", "")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT decided_by FROM segmentation WHERE id = :i"), {"i": result["id"]}).scalar() \
            == f"a-{role.value}"


@pytest.mark.parametrize("role", [Role.radiologist, Role.therapist, Role.read_only])
def test_manage_kb_is_for_admins(settings, db, tmp_path, role):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nText.\n")
    with pytest.raises(PermissionDenied, match="may not manage kb"):
        KnowledgeBaseService(settings, db, session=_as(role)).ingest_job(JobContext(), docs)


def test_a_locked_session_refuses_everything(settings, db, series):
    session = _as(Role.radiologist)
    session.lock()
    with pytest.raises(NotSignedIn, match="locked"):
        ImagingService(settings, db, session=session).patients()
    with pytest.raises(NotSignedIn):
        KnowledgeBaseService(settings, db, session=session).search("anything")


@pytest.mark.parametrize("role", [Role.read_only, Role.therapist])
def test_export_segments_needs_export_imaging(settings, db, tmp_path, role):
    segmentation = SegmentationService(settings, db, session=_as(role), registry=ModelRegistry(db))
    with pytest.raises(PermissionDenied, match="may not export imaging"):
        segmentation.export(JobContext(), "nifti", [], None, tmp_path / "seg.nii.gz", "")
    assert not (tmp_path / "seg.nii.gz").exists()
