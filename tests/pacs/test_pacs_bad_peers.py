"""Bad peers, scripted (no Orthanc needed): each failure is one plain sentence and nothing is half-imported.

Peers: a pynetdicom SCP that rejects our called AE title, answers a C-MOVE with 0xA801 or 0xC502,
or aborts a C-GET halfway; a TCP socket that never speaks; HTTP servers that send broken JSON or
cut a WADO-RS multipart stream in the middle.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from io import BytesIO

import pydicom
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from medstation.imaging.catalog import catalog
from medstation.imaging.pacs.node import PacsError, PacsNode, StudyQuery
from medstation.imaging.pacs.service import PacsService
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from tests.orthanc_support import free_port


@pytest.fixture
def service(settings, db):
    from medstation.access.roles import UserSession

    return PacsService(settings, db, UserSession.from_os_user())


@pytest.fixture
def series_files(tmp_path):
    return write_series(tmp_path / "src", SeriesSpec(n_slices=5, rows=16, columns=20))


def _series_answer(paths) -> Dataset:
    first = pydicom.dcmread(paths[0], stop_before_pixels=True)
    found = Dataset()
    found.QueryRetrieveLevel = "SERIES"
    found.StudyInstanceUID, found.SeriesInstanceUID = first.StudyInstanceUID, first.SeriesInstanceUID
    found.Modality, found.SeriesDescription = "CT", "scripted"
    found.NumberOfSeriesRelatedInstances = len(paths)
    return found


def _scripted_scp(paths, *, move_status=None, get_abort_after=None, require_called_aet=False):
    """A pynetdicom SCP named SCRIPTED: C-FIND answers the series; C-GET / C-MOVE misbehave as told."""
    ae = AE(ae_title="SCRIPTED")
    ae.require_called_aet = require_called_aet
    for cx in (Verification, StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelGet,
               StudyRootQueryRetrieveInformationModelMove):
        ae.add_supported_context(cx)
    for cx in StoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, scu_role=True, scp_role=True)

    def on_find(event):
        yield 0xFF00, _series_answer(paths)

    def on_get(event):
        yield len(paths)
        for k, p in enumerate(paths):
            if get_abort_after is not None and k == get_abort_after:
                event.assoc.abort()  # the peer vanishes mid-transfer
                return
            yield 0xFF00, pydicom.dcmread(p)

    def on_move(event):
        if move_status == 0xA801:
            yield None, None  # pynetdicom answers "move destination unknown" itself
            return
        yield "127.0.0.1", free_port()
        yield len(paths)
        yield move_status, None

    handlers = [(evt.EVT_C_FIND, on_find), (evt.EVT_C_GET, on_get), (evt.EVT_C_MOVE, on_move)]
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=handlers)
    return server, port


def _node(port, **kw):
    return PacsNode(ae_title=kw.pop("ae_title", "SCRIPTED"), host="127.0.0.1", port=port, timeout_s=kw.pop("timeout_s", 5),
                    listener_port=kw.pop("listener_port", free_port()), **kw)


def test_rejected_association_names_the_ae_titles(service, series_files):
    server, port = _scripted_scp(series_files, require_called_aet=True)
    try:
        with pytest.raises(PacsError, match="rejected the association") as err:
            service.test_connection(_node(port, ae_title="WRONGNAME"), loopback_move=False)
        assert "'WRONGNAME'" in str(err.value) and "'MEDSTATION'" in str(err.value)
    finally:
        server.shutdown()


@pytest.mark.parametrize("status,expected", [(0xA801, "add this workstation's AE title MEDSTATION, host 127.0.0.1"),
                                             (0xC502, "the PACS cannot reach our listener on 127.0.0.1:")])
def test_move_statuses_in_plain_words(service, db, series_files, status, expected):
    server, port = _scripted_scp(series_files, move_status=status)
    try:
        with pytest.raises(PacsError, match=expected) as err:
            service.retrieve_job(JobContext(), _node(port), str(pydicom.dcmread(series_files[0]).StudyInstanceUID),
                                 method="move")
        assert f"0x{status:04X}" in str(err.value)
    finally:
        server.shutdown()
    assert catalog(db) == []


def test_peer_that_vanishes_mid_get_leaves_nothing_visible_and_resume_finishes(service, db, settings, series_files):
    study = str(pydicom.dcmread(series_files[0]).StudyInstanceUID)
    server, port = _scripted_scp(series_files, get_abort_after=2)
    try:
        with pytest.raises(PacsError, match="broke during C-GET after 2 of 5 instances") as err:
            service.retrieve_job(JobContext(), _node(port), study, method="get")
        assert "run the retrieve again to resume" in str(err.value)
    finally:
        server.shutdown()
    assert catalog(db) == []
    assert len(list((settings.home / "pacs" / ".staging").rglob("*.dcm"))) == 2
    server, port = _scripted_scp(series_files)
    try:
        report = service.retrieve_job(JobContext(), _node(port), study, method="get")
    finally:
        server.shutdown()
    assert report.instances == 3
    assert [se.n_instances for p in catalog(db) for st in p.studies for se in st.series] == [5]


def test_silent_peer_times_out_with_a_sentence(service):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(PacsError, match="no DICOM answer from SCRIPTED@127.0.0.1:.* within 1 s"):
            service.test_connection(_node(port, timeout_s=1), loopback_move=False)
    finally:
        listener.close()


def test_nobody_listening_is_no_answer(service):
    with pytest.raises(PacsError, match="no DICOM answer .* check the host and port"):
        service.test_connection(_node(free_port(), timeout_s=2), loopback_move=False)


class _Web(http.server.BaseHTTPRequestHandler):
    """Scripted DICOMweb: ``mode`` = "bad-json" or "cut-stream"; ``paths`` = the series it serves."""

    mode = ""
    paths: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        first = pydicom.dcmread(self.paths[0], stop_before_pixels=True)
        path = self.path.split("?")[0]
        if self.mode == "bad-json":
            self._send(200, "application/dicom+json", b'[{"0020000E": {"vr": "UI", "Value": ')
        elif "/series/" not in path and not path.endswith("/series"):
            self._send(200, "application/dicom+json", b"[]")
        elif path.endswith("/series"):
            item = {"0020000D": {"vr": "UI", "Value": [str(first.StudyInstanceUID)]},
                    "0020000E": {"vr": "UI", "Value": [str(first.SeriesInstanceUID)]},
                    "00201209": {"vr": "IS", "Value": [len(self.paths)]}}
            self._send(200, "application/dicom+json", json.dumps([item]).encode())
        else:  # WADO-RS series: two whole parts, then the connection drops inside the third
            boundary = "CUTHERE"
            self.send_response(200)
            self.send_header("Content-Type", f'multipart/related; type="application/dicom"; boundary={boundary}')
            self.send_header("Content-Length", str(10**7))
            self.end_headers()
            for k, p in enumerate(self.paths[:3]):
                data = open(p, "rb").read()
                self.wfile.write(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode())
                self.wfile.write(data[: len(data) // 2] if k == 2 else data + b"\r\n")
            self.wfile.flush()
            self.close_connection = True

    def _send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def web(series_files):
    handler = type("Web", (_Web,), {"paths": series_files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, PacsNode(dicomweb_url=f"http://127.0.0.1:{server.server_address[1]}/dicom-web", timeout_s=5)
    server.shutdown()


def test_malformed_qido_answer(service, web):
    handler, node = web
    handler.mode = "bad-json"
    with pytest.raises(PacsError, match="malformed response"):
        service.query(node, StudyQuery())


def test_wado_stream_cut_mid_series_imports_nothing(service, db, settings, web, series_files):
    handler, node = web
    handler.mode = "cut-stream"
    study = str(pydicom.dcmread(series_files[0]).StudyInstanceUID)
    with pytest.raises(PacsError) as err:
        service.retrieve_job(JobContext(), node, study)
    assert "nothing" in str(err.value) or "incomplete" in str(err.value)
    assert catalog(db) == []
    assert len(list((settings.home / "pacs" / ".staging").rglob("*.dcm"))) <= 2
    assert not list((settings.home / "pacs").glob("1*"))


def test_unreachable_dicomweb_server(service):
    with pytest.raises(PacsError, match="cannot reach http://127.0.0.1:1/dicom-web"):
        service.test_connection(PacsNode(dicomweb_url="http://127.0.0.1:1/dicom-web", timeout_s=2))
