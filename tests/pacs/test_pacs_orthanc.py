"""Echo, query, retrieve (WADO-RS, C-GET, C-MOVE) and the classic failures, against a real Orthanc."""

from __future__ import annotations

import pytest

from medstation.imaging.catalog import catalog
from medstation.imaging.pacs.node import PacsError, StudyQuery
from medstation.imaging.pacs.service import PacsService
from medstation.jobs import Cancelled, JobContext
from tests.pacs.conftest import DEAF_AE, NOGET_AE


@pytest.fixture
def service(settings, db):
    from medstation.access.roles import UserSession

    return PacsService(settings, db, UserSession.from_os_user())


def _indexed(db) -> dict[str, int]:
    """series UID -> instance count, for every series in the local index."""
    return {se.series_uid: se.n_instances for p in catalog(db) for st in p.studies for se in st.series}


def test_echo_both_protocols(pacs, service):
    assert "QIDO-RS" in service.test_connection(pacs.dicomweb_node())[0]
    lines = service.test_connection(pacs.dimse_node())
    assert "C-ECHO" in lines[0] and "one instance arrived" in lines[1]


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_query_by_patient_and_modality(pacs, service, protocol):
    node = getattr(pacs, f"{protocol}_node")()
    ct_uid, ct_count = pacs.studies["ct"]
    hits = service.query(node, StudyQuery(patient_id="PACS-CT-1"))
    assert [h.study_uid for h in hits] == [ct_uid]
    assert hits[0].n_instances == ct_count and hits[0].modalities == ("CT",)
    mr = service.query(node, StudyQuery(modality="MR"))
    assert [h.patient_id for h in mr] == ["PACS-MR-2"]
    assert service.query(node, StudyQuery(patient_id="NOBODY")) == []
    assert len(service.query(node, StudyQuery(date_from="20240101", date_to="20240131"))) == 2
    assert service.query(node, StudyQuery(date_from="20250101", date_to="20250131")) == []


@pytest.mark.parametrize("protocol,method,expect", [("dicomweb", "auto", "wado"), ("dimse", "auto", "get"),
                                                    ("dimse", "move", "move")])
def test_retrieve_indexes_every_series_complete(pacs, service, db, settings, protocol, method, expect):
    node = getattr(pacs, f"{protocol}_node")()
    uid, count = pacs.studies["ct"]
    visible = []
    report = service.retrieve_job(JobContext(on_partial=visible.append), node, uid, method=method)
    assert report.method == expect and report.instances == count and len(report.series_imported) == 2
    assert sorted(visible) == sorted(report.series_imported)  # each series announced once it is indexed
    indexed = _indexed(db)
    assert sorted(indexed.values()) == [count // 2, count // 2]
    assert not any((settings.home / "pacs" / ".staging").iterdir())
    again = service.retrieve_job(JobContext(), node, uid, method=method)  # already complete: nothing fetched
    assert again.instances == 0 and len(again.series_already_complete) == 2


def test_auto_falls_back_to_move_when_get_is_refused(pacs, service, db):
    node = pacs.dimse_node(local_ae_title=NOGET_AE)
    uid, count = pacs.studies["mr"]
    report = service.retrieve_job(JobContext(), node, uid)
    assert report.method == "move" and report.instances == count
    with pytest.raises(PacsError, match="use C-MOVE"):
        service.retrieve_job(JobContext(), node, pacs.studies["ct"][0], method="get")


def test_unknown_move_destination_says_add_us_to_the_pacs(pacs, service, db):
    # Orthanc 1.10 answers an unknown destination with 0xC000, not 0xA801: the message names both causes;
    # the exact 0xA801 / 0xC502 sentences are checked against a scripted peer (test_pacs_bad_peers.py).
    node = pacs.dimse_node(local_ae_title="STRANGER")
    with pytest.raises(PacsError, match="0xC000") as err:
        service.retrieve_job(JobContext(), node, pacs.studies["mr"][0], method="move")
    assert "add this workstation's AE title STRANGER" in str(err.value)
    with pytest.raises(PacsError, match="add this workstation's AE title STRANGER"):
        service.test_connection(node)
    assert _indexed(db) == {}


def test_listener_the_pacs_cannot_reach(pacs, service, db):
    import socket

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", pacs.deaf_port), timeout=5):
        pass  # the premise: nothing answers at the deaf destination's port
    node = pacs.dimse_node(local_ae_title=DEAF_AE)
    with pytest.raises(PacsError, match="cannot reach our listener on 127.0.0.1:") as err:
        service.retrieve_job(JobContext(), node, pacs.studies["mr"][0], method="move")
    assert str(pacs.listener_port) in str(err.value)
    assert _indexed(db) == {}


class _CancelAfter(JobContext):
    """Cancels itself once ``n`` instances were reported received."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def report(self, fraction: float, message: str = "") -> None:
        super().report(fraction, message)
        if message.startswith("received ") and int(message.split()[1].split("/")[0]) >= self.n:
            self.cancel()


@pytest.mark.parametrize("protocol,method", [("dicomweb", "auto"), ("dimse", "get"), ("dimse", "move")])
def test_cancelled_retrieve_hides_the_series_and_resumes(pacs, service, db, settings, protocol, method):
    node = getattr(pacs, f"{protocol}_node")()
    uid, count = pacs.studies["ct"]
    with pytest.raises(Cancelled):
        service.retrieve_job(_CancelAfter(3), node, uid, method=method)
    assert _indexed(db) == {}  # nothing half-imported is visible
    staged = list((settings.home / "pacs" / ".staging").rglob("*.dcm"))
    assert 3 <= len(staged) < count
    report = service.retrieve_job(JobContext(), node, uid, method=method)
    assert sorted(_indexed(db).values()) == [count // 2, count // 2]
    assert report.instances == count - len(staged)


def test_unknown_study_is_a_clear_error(pacs, service):
    with pytest.raises(PacsError, match="has no study"):
        service.retrieve_job(JobContext(), pacs.dicomweb_node(), "1.2.3.4.5.6")
    with pytest.raises(PacsError, match="has no study"):
        service.retrieve_job(JobContext(), pacs.dimse_node(), "1.2.3.4.5.6")


def test_retrieve_is_audited(pacs, service, db):
    from sqlmodel import select

    from medstation.store.tables import AuditEvent

    service.retrieve_job(JobContext(), pacs.dicomweb_node(), pacs.studies["mr"][0])
    with db.session() as s:
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
    assert "pacs.retrieve" in actions
