"""De-identification: no PHI survives, UIDs and pseudonyms persist across exports, images unchanged."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medstation.access.roles import UserSession
from medstation.imaging.deid.export import DeidRequest, export_deidentified
from medstation.imaging.deid.profile import DeidOption, method_text
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
        ds.ReferencedInstanceSequence = Sequence([item])
        ds.ReferencedImageSequence = Sequence([Dataset()])  # X/Z/U*, Type 3 in a CT image: removed
        ds.add_new(0x60000010, "US", 4)
        ds.add_new(0x60000011, "US", 4)
        ds.add_new(0x60003000, "OW", b"\x00" * 2)
        ds.save_as(p)


def _all_text(ds) -> str:
    out = [str(elem.value) for elem in ds.iterall() if elem.VR not in ("OB", "OW", "SQ")]
    out += [str(elem.value) for elem in ds.file_meta]
    return "\n".join(out)


@pytest.mark.both_engines  # the pseudonym map's upsert on SQLite and PostgreSQL
def test_no_phi_survives_and_uids_are_mapped_consistently(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=4))
    _add_extra_phi(paths)
    originals = [pydicom.dcmread(p) for p in paths]
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out")
    assert len(report.files) == 4 and not report.refused
    outs = [pydicom.dcmread(p) for p in report.files]
    for ds, orig in zip(outs, originals):
        text = _all_text(ds)
        for secret in SECRETS:
            assert secret not in text, secret
        assert str(ds.PatientName).startswith("PSN-") and ds.PatientID == str(ds.PatientName)
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.DeidentificationMethod == "PS3.15 E.1-1 Basic" and len(ds.DeidentificationMethod) <= 64
        assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100"]
        assert ds.LongitudinalTemporalInformationModified == "REMOVED"
        assert not any(e.tag.is_private for e in ds.iterall())
        assert not any(e.tag.group & 0xFF00 == 0x6000 for e in ds)  # the overlay group went whole
        assert ds.SOPInstanceUID != orig.SOPInstanceUID and ds.SOPClassUID == orig.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
        assert "ReferencedImageSequence" not in ds
        assert ds.FrameOfReferenceUID != orig.FrameOfReferenceUID
        np.testing.assert_array_equal(ds.pixel_array, orig.pixel_array)
    assert len({d.SeriesInstanceUID for d in outs}) == 1 and len({d.StudyInstanceUID for d in outs}) == 1
    assert len({d.SOPInstanceUID for d in outs}) == 4
    a, b = load_series(JobContext(), paths), load_series(JobContext(), report.files)
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_outputs_are_named_from_pseudonymous_uids_only(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out")
    for path in report.files:
        ds = pydicom.dcmread(path)
        rel = path[len(str(tmp_path / "out")) + 1:]
        assert rel == f"{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm"


def test_two_halves_of_a_series_exported_separately_stay_one_study_series_and_frame(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=6))
    first = export_deidentified(JobContext(), db, paths[:3], tmp_path / "a")
    second = export_deidentified(JobContext(), db, paths[3:], tmp_path / "b")
    outs = [pydicom.dcmread(p) for p in first.files + second.files]
    assert len({d.StudyInstanceUID for d in outs}) == 1
    assert len({d.SeriesInstanceUID for d in outs}) == 1
    assert len({d.FrameOfReferenceUID for d in outs}) == 1
    assert len({d.PatientID for d in outs}) == 1
    assert len({d.SOPInstanceUID for d in outs}) == 6
    # Re-exporting a file gives the same identity: the map persists in the store.
    again = export_deidentified(JobContext(), db, paths[:1], tmp_path / "c")
    assert pydicom.dcmread(again.files[0]).SOPInstanceUID == outs[0].SOPInstanceUID


@pytest.mark.both_engines  # the pseudonym map's upsert on SQLite and PostgreSQL
def test_two_patients_get_two_pseudonyms_and_their_own_date_shift(db, tmp_path):
    a = write_series(tmp_path / "a", SeriesSpec(n_slices=1))
    b = write_series(tmp_path / "b", SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(b[0])
    ds.PatientID, ds.PatientName, ds.StudyInstanceUID = "OTHER-77", "Other^Person", pydicom.uid.generate_uid()
    ds.save_as(b[0])
    request = DeidRequest(options=frozenset({DeidOption.retain_dates}))
    report = export_deidentified(JobContext(), db, a + b, tmp_path / "out", request)
    out_a, out_b = (pydicom.dcmread(p) for p in report.files)
    assert out_a.PatientID != out_b.PatientID and out_a.PatientID.startswith("PSN-")
    assert out_a.LongitudinalTemporalInformationModified == "MODIFIED"
    src_a = pydicom.dcmread(a[0])
    assert out_a.StudyDate and out_a.StudyDate != src_a.StudyDate  # shifted, not removed
    assert "113107" in [c.CodeValue for c in out_a.DeidentificationMethodCodeSequence]
    from medstation.store.tables import DeidPseudonym, PseudonymKind
    from sqlmodel import select

    with db.session() as s:
        patients = s.exec(select(DeidPseudonym).where(DeidPseudonym.kind == PseudonymKind.patient.value)).all()
    assert sorted(p.pseudonym for p in patients) == sorted([out_a.PatientID, out_b.PatientID])
    assert all(p.date_shift_days < 0 and p.date_shift_days % 7 == 0 for p in patients)
    assert all("OTHER-77" not in p.source_sha256 for p in patients)  # sources hashed, never in clear


def test_options_keep_what_they_promise(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(paths[0])
    ds.PatientAge, ds.PatientWeight, ds.StationName, ds.DeviceSerialNumber = "042Y", 70, "CT01", "SN123"
    ds.StudyDescription = "CT head for Doe"
    ds.save_as(paths[0])
    options = frozenset(DeidOption)
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out", DeidRequest(options=options))
    out = pydicom.dcmread(report.files[0])
    assert (out.PatientAge, float(out.PatientWeight), out.StationName, out.DeviceSerialNumber) == ("042Y", 70.0, "CT01", "SN123")
    assert out.StudyDescription == "CT head for ***"  # cleaned: the patient's name is scrubbed
    assert out.DeidentificationMethod == method_text(options) and len(out.DeidentificationMethod) <= 64
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == ["113100", "113107", "113108", "113105", "113109"]
    plain = export_deidentified(JobContext(), db, paths, tmp_path / "plain")
    out = pydicom.dcmread(plain.files[0])
    assert "PatientAge" not in out and "StudyDescription" not in out and "DeviceSerialNumber" not in out


@pytest.mark.parametrize("name", ["examples_palette.dcm", "US1_UNCR.dcm"])
def test_flagged_ultrasound_is_refused_without_confirmation(db, tmp_path, name):
    from pydicom.data import get_testdata_file

    source = get_testdata_file(name)
    refused = export_deidentified(JobContext(), db, [source], tmp_path / "out")
    assert refused.files == () and refused.refused_for_burned_in == (source,)
    assert "ultrasound" in refused.refused[0][1]
    confirmed = export_deidentified(JobContext(), db, [source], tmp_path / "out", DeidRequest(confirm_burned_in=True))
    assert len(confirmed.files) == 1 and confirmed.burned_in[0].decision == "confirmed"


def test_masked_rectangles_are_blanked_and_recorded(db, tmp_path):
    from pydicom.data import get_testdata_file

    from medstation.imaging.deid.pixels import MaskRect

    source = get_testdata_file("US1_UNCR.dcm")
    original = pydicom.dcmread(source).pixel_array
    rect = MaskRect(0, 0, 120, 40)
    report = export_deidentified(JobContext(), db, [source], tmp_path / "out", DeidRequest(masks=(rect,)))
    out = pydicom.dcmread(report.files[0])
    assert report.burned_in[0].decision == "masked" and report.burned_in[0].pixels_blanked == 120 * 40
    assert original[:40, :120].any() and not out.pixel_array[:40, :120].any()
    np.testing.assert_array_equal(out.pixel_array[40:], original[40:])
    assert "113101" in [c.CodeValue for c in out.DeidentificationMethodCodeSequence]


def test_unreadable_and_truncated_files_are_refused_with_a_reason(db, tmp_path):
    from pydicom.data import get_testdata_file

    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    report = export_deidentified(JobContext(), db, [junk, get_testdata_file("MR_truncated.dcm")], tmp_path / "out")
    reasons = dict(report.refused)
    assert "unreadable" in reasons[str(junk)] and "truncated" in reasons[get_testdata_file("MR_truncated.dcm")]


def test_service_export_is_audited_with_the_burned_in_decision(settings, db, tmp_path):
    from sqlmodel import select

    from medstation.imaging.service import ImagingService
    from medstation.store.tables import AuditEvent

    write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    uid = service.index_job(JobContext(), [tmp_path / "src"]).series_uids[0]
    report = service.export_deidentified_job(JobContext(), uid, actor="tester", request=DeidRequest(confirm_burned_in=True))
    assert len(report.files) == 2 and report.out_dir.startswith(str(settings.exports_dir))
    with db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "imaging.export_deidentified")).all()
    assert len(events) == 1 and events[0].entity_id == uid and events[0].actor == "tester"
    assert events[0].detail["files"] == 2 and events[0].detail["burned_in"] == []


def test_cleaning_reaches_every_value_of_a_multi_valued_attribute(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(paths[0])
    ds.Allergies = ["penicillin", "noted by Doe"]
    ds.save_as(paths[0])
    options = frozenset({DeidOption.retain_patient_characteristics})
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out", DeidRequest(options=options))
    assert list(pydicom.dcmread(report.files[0]).Allergies) == ["penicillin", "noted by ***"]


def test_a_private_sop_class_is_kept_while_instance_uids_change(db, tmp_path):
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(paths[0])
    ds.SOPClassUID = "1.2.840.113619.4.2"  # a vendor's private class: pydicom cannot name it
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(paths[0])
    out = pydicom.dcmread(export_deidentified(JobContext(), db, paths, tmp_path / "out").files[0])
    assert out.SOPClassUID == "1.2.840.113619.4.2" and out.SOPInstanceUID != ds.SOPInstanceUID


def test_the_window_export_uses_the_configured_options(settings, db, tmp_path):
    from medstation.imaging.service import ImagingService

    write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    settings.deid_options = ["retain-dates", "retain-device-id"]
    service = ImagingService(settings, db, session=UserSession.from_os_user())
    uid = service.index_job(JobContext(), [tmp_path / "src"]).series_uids[0]
    report = service.export_deidentified_job(JobContext(), uid)
    assert report.options == ("retain-dates", "retain-device-id")
    codes = [c.CodeValue for c in pydicom.dcmread(report.files[0]).DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113107", "113109"]


def test_a_mask_that_misses_the_image_refuses_the_file_instead_of_exporting_it_unmasked(db, tmp_path):
    """Rectangles typed for another matrix (x 700 on a 640-wide ultrasound) blanked nothing, yet 7d7286b exported
    the image and recorded it as 'masked' (0 pixels): the burned-in text left the building."""
    from pydicom.data import get_testdata_file

    from medstation.imaging.deid.pixels import MaskRect

    source = get_testdata_file("US1_UNCR.dcm")
    cols = int(pydicom.dcmread(source, stop_before_pixels=True).Columns)
    report = export_deidentified(JobContext(), db, [source], tmp_path / "out",
                                 DeidRequest(masks=(MaskRect(cols + 60, 0, 120, 40),)))
    assert report.files == () and report.burned_in == ()
    [(path, reason)] = report.refused
    assert path == source and "outside" in reason
