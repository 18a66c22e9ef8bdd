"""dciodvfy (dicom3tools) finds no new errors in what we write: de-identified copies and DICOM-SEG.

"New" is measured against the source: an error the source already had is not ours.
Sources dciodvfy itself cannot read to the end ("Tag read failed") have no baseline and are
not used. dicom3tools is installed by scripts/setup.sh (APT_PKGS).
"""

from __future__ import annotations

import pytest
from pydicom.data import get_testdata_file

from medstation.imaging.deid.export import DeidRequest, export_deidentified
from medstation.imaging.deid.profile import DeidOption
from medstation.imaging.dicom_validate import baseline_errors, dciodvfy_available, dciodvfy_errors, new_errors
from medstation.jobs import JobContext

pytestmark = pytest.mark.skipif(not dciodvfy_available(), reason="dciodvfy missing: run scripts/setup.sh (dicom3tools)")

# Varied IODs: CT, MR, enhanced MR, RT plan/dose/structure set, ECG waveform, US, SC, palette, JPEG 2000, overlays.
SOURCES = [
    "CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "rtplan.dcm", "rtdose.dcm", "rtstruct.dcm",
    "waveform_ecg.dcm", "examples_palette.dcm", "US1_UNCR.dcm", "SC_rgb.dcm", "MR2_J2KI.dcm", "mlut_18.dcm",
    "OBXXXX1A.dcm", "JPEG2000.dcm", "ExplVR_BigEnd.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm",
]


def test_the_sample_ct_with_blank_uids_adds_no_dciodvfy_errors(db, tmp_path):
    from medstation.config import sample_study_dir

    sources = sorted(str(p) for p in sample_study_dir().iterdir())[:3]
    report = export_deidentified(JobContext(), db, sources, tmp_path / "out")
    assert len(report.files) == len(sources)
    import pydicom

    for source in sources:
        sop = pydicom.dcmread(source, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID
        out = next(f for f in report.files if pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID ==
                   db_map_uid(db, sop))
        assert new_errors(baseline_errors(source, tmp_path), dciodvfy_errors(out)) == []


def db_map_uid(db, uid: str) -> str:
    from medstation.imaging.deid.pseudonyms import PseudonymMap

    return PseudonymMap(db).uid(uid)


@pytest.mark.parametrize("options", [frozenset(), frozenset(DeidOption)], ids=["basic", "all-options"])
def test_deidentified_files_add_no_dciodvfy_errors(db, tmp_path, options):
    request = DeidRequest(options=options, confirm_burned_in=True)
    checked, added = 0, {}
    for name in SOURCES:
        source = get_testdata_file(name)
        before = baseline_errors(source, tmp_path)
        assert before is not None, name  # every listed source is complete
        report = export_deidentified(JobContext(), db, [source], tmp_path / name, request)
        assert len(report.files) == 1, report.refused
        extra = new_errors(before, dciodvfy_errors(report.files[0]))
        if extra:
            added[name] = extra
        checked += 1
    assert checked == len(SOURCES) and added == {}
