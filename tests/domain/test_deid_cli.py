"""``medstation deid``: report, exit status, options, JSON."""

from __future__ import annotations

import json

import pydicom
from pydicom.data import get_testdata_file

from medstation.cli import main


def test_refusal_gives_a_non_zero_exit_and_says_why(tmp_path, capsys):
    ct, us = get_testdata_file("CT_small.dcm"), get_testdata_file("US1_UNCR.dcm")
    code = main(["deid", ct, us, "--out", str(tmp_path / "out"), "--option", "retain-dates", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert len(report["files"]) == 1 and report["options"] == ["retain-dates"]
    assert report["refused"][0]["path"] == us and "burned-in" in report["refused"][0]["reason"]
    assert report["attributes_changed"]["PatientName"] == 1
    out = pydicom.dcmread(report["files"][0])
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


def test_confirmed_folder_export_exits_zero(tmp_path, capsys):
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    for name in ("CT_small.dcm", "US1_UNCR.dcm"):
        shutil.copy(get_testdata_file(name), src / name)
    code = main(["deid", str(src), "--out", str(tmp_path / "out"), "--confirm-burned-in"])
    text = capsys.readouterr().out
    assert code == 0 and "Written: 2 file(s)" in text and "Refused: 0" in text and "burned-in confirmed" in text


def test_bad_mask_is_a_usage_error(tmp_path, capsys):
    code = main(["deid", get_testdata_file("CT_small.dcm"), "--out", str(tmp_path), "--mask", "1,2,3"])
    assert code == 2 and "X,Y,WIDTH,HEIGHT" in capsys.readouterr().out
