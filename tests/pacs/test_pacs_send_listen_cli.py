"""Send back a DICOM-SEG (STOW-RS and C-STORE), refuse blank-UID sources, receive a push, and the CLI."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import numpy as np
import pydicom
import pytest
from sqlmodel import select

from medstation.cli import main
from medstation.imaging.catalog import catalog
from medstation.imaging.indexer import index_paths
from medstation.imaging.loader import load_series
from medstation.imaging.pacs.node import PacsError
from medstation.imaging.pacs.service import PacsService
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.segmentation.export import ExportSegment, export_dicom_seg
from medstation.store.tables import AuditEvent
from tests.pacs.conftest import LOCAL_AE


@pytest.fixture
def service(settings, db):
    from medstation.access.roles import UserSession

    return PacsService(settings, db, UserSession.from_os_user())


def _seg_of(paths, out):
    vol = load_series(JobContext(), paths)
    mask = np.zeros(vol.pixels.shape, np.uint8)
    mask[1:3, 4:10, 5:12] = 1
    return export_dicom_seg([ExportSegment(1, "liver", mask)], vol, out)


def _counts(db) -> list[int]:
    return [se.n_instances for p in catalog(db) for st in p.studies for se in st.series]


def _actions(db) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.exec(select(AuditEvent)).all()]


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_send_seg_back_and_the_pacs_holds_it(pacs, service, db, settings, tmp_path, protocol):
    node = getattr(pacs, f"{protocol}_node")()
    report = service.retrieve_job(JobContext(), node, pacs.studies["mr"][0])
    files = sorted(str(p) for p in (settings.home / "pacs").rglob("*.dcm"))
    seg = _seg_of(files, tmp_path / f"seg_{protocol}.dcm")
    sent = service.send_job(JobContext(), node, [seg])
    sop = str(pydicom.dcmread(seg).SOPInstanceUID)
    assert sent.sent == [sop] and report.instances > 0
    found = json.loads(urllib.request.urlopen(
        urllib.request.Request(f"{pacs.server.base_url}/tools/lookup", data=sop.encode(), method="POST")).read())
    assert [f["Type"] for f in found] == ["Instance"]
    assert "pacs.send" in _actions(db)


def test_blank_uid_source_is_refused_with_the_reason(pacs, service, db, tmp_path):
    paths = write_series(tmp_path / "blank", SeriesSpec(n_slices=4, rows=16, columns=20))
    for p in paths:  # as the sample CT ships: no Study/Series/SOP Instance UIDs
        ds = pydicom.dcmread(p)
        ds.StudyInstanceUID = ds.SeriesInstanceUID = ds.SOPInstanceUID = ""
        ds.save_as(p)
    index_paths(JobContext(), db, [tmp_path / "blank"])
    series_uid = catalog(db)[0].studies[0].series[0].series_uid
    seg = _seg_of(paths, tmp_path / "seg.dcm")
    assert pydicom.dcmread(seg).ReferencedSeriesSequence[0].SeriesInstanceUID == series_uid
    with pytest.raises(PacsError, match="blank Study/Series/SOP Instance UIDs"):
        service.send_job(JobContext(), pacs.dicomweb_node(), [seg])
    ds = pydicom.dcmread(seg)
    ds.StudyInstanceUID = ""
    ds.save_as(tmp_path / "blank_study.dcm")
    with pytest.raises(PacsError, match="StudyInstanceUID is blank"):
        service.send_job(JobContext(), pacs.dimse_node(), [tmp_path / "blank_study.dcm"])
    assert "pacs.send" not in _actions(db)


def test_a_push_from_the_pacs_is_indexed_as_it_arrives(pacs, service, db):
    ctx = JobContext()
    result = {}
    worker = threading.Thread(target=lambda: result.update(n=service.listen_job(
        ctx, ae_title=LOCAL_AE, port=pacs.listener_port, host="127.0.0.1")))
    worker.start()
    try:
        time.sleep(0.3)
        orthanc_ids = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{pacs.server.base_url}/tools/lookup", data=pacs.studies["mr"][0].encode(), method="POST")).read())
        push = urllib.request.Request(f"{pacs.server.base_url}/modalities/medstation/store",
                                      data=orthanc_ids[0]["ID"].encode(), method="POST")
        urllib.request.urlopen(push, timeout=30).read()
        on_pacs = len(pacs.server.get_json(f"/studies/{orthanc_ids[0]['ID']}/instances"))  # earlier tests sent SEGs
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(_counts(db)) < on_pacs:
            time.sleep(0.2)
    finally:
        ctx.cancel()
        worker.join(30)
    assert result["n"] == on_pacs >= pacs.studies["mr"][1]
    assert sum(_counts(db)) == on_pacs and pacs.studies["mr"][1] in _counts(db)
    assert "pacs.receive" in _actions(db)


def test_cli_query_json_and_retrieve(pacs, capsys, settings):
    assert main(["pacs", "query", "--dicomweb", pacs.server.dicomweb_url, "--patient-id", "PACS-CT-1", "--json"]) == 0
    studies = json.loads(capsys.readouterr().out)
    assert [(s["StudyInstanceUID"], s["PatientID"], s["ModalitiesInStudy"], s["NumberOfStudyRelatedInstances"])
            for s in studies] == [(pacs.studies["ct"][0], "PACS-CT-1", ["CT"], pacs.studies["ct"][1])]
    assert main(["pacs", "query", "--dimse", pacs.server.dimse, "--modality", "MR"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(pacs.studies["mr"][0]) and "PACS-MR-2" in lines[0]
    assert main(["pacs", "echo", "--dimse", pacs.server.dimse, "--local-ae", LOCAL_AE,
                 "--listener-port", str(pacs.listener_port), "--move-test"]) == 0
    assert "one instance arrived" in capsys.readouterr().out
    assert main(["pacs", "retrieve", "--dimse", pacs.server.dimse, "--study", pacs.studies["ct"][0],
                 "--local-ae", LOCAL_AE, "--listener-port", str(pacs.listener_port), "--method", "move"]) == 0
    assert f"2 series imported, 0 already complete, {pacs.studies['ct'][1]} instances" in capsys.readouterr().out


def test_cli_errors_are_plain_sentences(capsys):
    assert main(["pacs", "echo", "--dimse", "no-port-here"]) == 2
    assert "AET@HOST:PORT" in capsys.readouterr().err
    assert main(["pacs", "query"]) == 2
    assert "exactly one of --dicomweb" in capsys.readouterr().err
