"""De-identification (PS3.15 basic profile): no PHI survives, UIDs stay consistent, images unchanged."""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medstation.imaging.deid import export_deidentified
from medstation.imaging.deid_profile import PHI_KEYWORDS
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext

SECRETS = ("Doe", "PID-0001", "19700101", "20240102", "ACC123", "Who^Doctor", "General Hospital", "Secret")


def _add_extra_phi(paths):
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.OtherPatientIDs = "Secret-ID"
        ds.PatientAddress = "1 Secret Street"
        ds.AcquisitionDateTime = "20240102101500"
        ds.private_block(0x0011, "ACME", create=True).add_new(0x01, "LO", "Secret private note")
        item = Dataset()
        item.PersonName = "Secret^Person"  # PN inside a sequence the table does not list
        item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
        ds.ReferencedImageSequence = Sequence([item])
        ds.save_as(p)


def _all_text(ds) -> str:
    out = []
    for elem in ds.iterall():
        if elem.VR not in ("OB", "OW", "SQ"):
            out.append(str(elem.value))
    for elem in ds.file_meta:
        out.append(str(elem.value))
    return "\n".join(out)


def test_no_phi_survives_and_uids_are_mapped_consistently(tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=4))
    _add_extra_phi(paths)
    originals = [pydicom.dcmread(p) for p in paths]
    report = export_deidentified(JobContext(), paths, tmp_path / "out")
    assert len(report.files) == 4 and not report.skipped
    outs = [pydicom.dcmread(p) for p in report.files]
    for ds, orig in zip(outs, originals):
        text = _all_text(ds)
        for secret in SECRETS:
            assert secret not in text, secret
        for keyword in PHI_KEYWORDS:
            if keyword in ds and keyword not in ("PatientName", "PatientID"):
                assert ds.get(keyword) in ("", None, []), keyword
        assert str(ds.PatientName) == "ANONYMOUS"
        assert ds.PatientIdentityRemoved == "YES"
        assert "Basic Application" in ds.DeidentificationMethod
        assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert not any(e.tag.is_private for e in ds.iterall())
        # New UIDs, the SOP class kept, references remapped to the new SOP UID.
        assert ds.SOPInstanceUID != orig.SOPInstanceUID and ds.SOPClassUID == orig.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
        assert ds.FrameOfReferenceUID != orig.FrameOfReferenceUID
        np.testing.assert_array_equal(ds.pixel_array, orig.pixel_array)
    assert len({d.SeriesInstanceUID for d in outs}) == 1 and len({d.StudyInstanceUID for d in outs}) == 1
    assert len({d.SOPInstanceUID for d in outs}) == 4
    # The copy still loads as the same volume.
    a, b = load_series(JobContext(), paths), load_series(JobContext(), report.files)
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_burned_in_annotation_is_warned(tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(paths[0])
    ds.BurnedInAnnotation = "YES"
    ds.save_as(paths[0])
    report = export_deidentified(JobContext(), paths, tmp_path / "out")
    assert report.warnings and "burned-in" in report.warnings[0]


def test_service_export_is_audited(settings, db, tmp_path):
    from sqlmodel import select

    from medstation.imaging.service import ImagingService
    from medstation.store.tables import AuditEvent

    write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    service = ImagingService(settings, db)
    uid = service.index_job(JobContext(), [tmp_path / "src"]).series_uids[0]
    report = service.export_deidentified_job(JobContext(), uid, actor="tester")
    assert len(report.files) == 2 and report.out_dir.startswith(str(settings.exports_dir))
    with db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "imaging.export_deidentified")).all()
    assert len(events) == 1 and events[0].entity_id == uid and events[0].actor == "tester"
