"""PACS tests: a real Orthanc (skipped only when its binary is absent) and DICOM the tests write.

No Qt here, as in tests/domain. The Orthanc process is shared by a module (start ≈ 0.2 s, but
loading studies is not free); every test still gets its own MEDSTATION_HOME.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.domain.conftest import _no_qt_in_domain  # noqa: F401 (autouse: no Qt in PACS tests either)
from tests.orthanc_support import ORTHANC_BINARY, SKIP_REASON, HeldPort, OrthancServer

LOCAL_AE = "MEDSTATION"
NOGET_AE = "NOGETTER"  # known to Orthanc, but may not C-GET: the auto method must fall back to C-MOVE
DEAF_AE = "DEAFSTATION"  # known to Orthanc at a port where nobody listens: the 0xC502 case


def write_study(folder: Path, *, patient_id: str, modality: str = "CT", series: int = 2, slices: int = 6):
    """One study of ``series`` synthetic series (real UIDs); returns (study_uid, [paths])."""
    import pydicom
    from medstation.imaging.synthetic import SeriesSpec, write_series

    paths: list[Path] = []
    study_uid = None
    for k in range(series):
        written = write_series(folder / f"s{k}", SeriesSpec(n_slices=slices, modality=modality, patient_id=patient_id,
                                                            rows=16, columns=20))
        for p in written:
            ds = pydicom.dcmread(p)
            study_uid = study_uid or str(ds.StudyInstanceUID)
            ds.StudyInstanceUID = study_uid
            ds.SeriesNumber = k + 1
            ds.save_as(p)
        paths.extend(written)
    return study_uid, paths


class Pacs:
    """The running Orthanc plus what was loaded into it and the ports our side uses."""

    def __init__(self, server: OrthancServer, listener_port: int, studies: dict, deaf_port: int = 0) -> None:
        self.server, self.listener_port, self.studies = server, listener_port, studies
        self.deaf_port = deaf_port  # where Orthanc's DEAF_AE entry points: bound by the fixture, never listening

    def dicomweb_node(self, **kw):
        from medstation.imaging.pacs.node import PacsNode

        return PacsNode(dicomweb_url=self.server.dicomweb_url, timeout_s=kw.pop("timeout_s", 15), **kw)

    def dimse_node(self, **kw):
        from medstation.imaging.pacs.node import PacsNode

        kw.setdefault("local_ae_title", LOCAL_AE)
        kw.setdefault("listener_port", self.listener_port)
        return PacsNode(ae_title=self.server.aet, host="127.0.0.1", port=self.server.dicom_port,
                        timeout_s=kw.pop("timeout_s", 15), **kw)


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    if ORTHANC_BINARY is None:
        pytest.skip(SKIP_REASON)
    folder = tmp_path_factory.mktemp("orthanc")
    # Our listener's port is held until Orthanc has chosen its own two, so they cannot coincide; the deaf
    # destination's port stays held (bound, never listening) for the whole module, so a move there is
    # always refused. Released ports could be handed out again: in CI on 2026-12-07 the move to the deaf
    # destination succeeded, which can only happen when something, most likely our listener, answered there.
    listener, deaf = HeldPort(), HeldPort()
    listener_port = listener.port
    server = OrthancServer(folder / "server", modalities={
        "medstation": (LOCAL_AE, "127.0.0.1", listener_port),
        "noget": (NOGET_AE, "127.0.0.1", listener_port, {"AllowGet": False}),
        "deaf": (DEAF_AE, "127.0.0.1", deaf.port),
    })
    listener.close()
    assert len({listener_port, deaf.port, server.dicom_port, server.http_port}) == 4
    try:
        server.start()
        studies = {}
        for name, pid, modality, n_series in (("ct", "PACS-CT-1", "CT", 2), ("mr", "PACS-MR-2", "MR", 1)):
            uid, paths = write_study(folder / name, patient_id=pid, modality=modality, series=n_series)
            server.upload(paths)
            studies[name] = (uid, len(paths))
        yield Pacs(server, listener_port, studies, deaf_port=deaf.port)
    finally:
        server.stop()
        deaf.close()
