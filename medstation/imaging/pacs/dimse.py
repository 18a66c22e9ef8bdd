"""DIMSE through ``pynetdicom``: C-ECHO, C-FIND (study/series), C-GET and C-MOVE per series, C-STORE.

One association serves one series. Every failure leaves as a :class:`~.node.PacsError` whose
message names the status code and what to change (:mod:`.messages`). Instances arrive through
``on_instance(sop_uid, part10_bytes)``, already encoded (``event.encoded_dataset()``: no decode,
no re-encode), so the caller can write them as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager

from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, build_role, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from medstation.imaging.pacs import messages
from medstation.imaging.pacs.node import PacsError, PacsNode, SeriesHit, StudyHit, StudyQuery

log = logging.getLogger(__name__)
_PENDING = (0xFF00, 0xFF01)
OnInstance = Callable[[str, bytes], None]


def _ae(node: PacsNode) -> AE:
    # pynetdicom logs every PDU at INFO; into our log file at INFO that is megabytes and time per study
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    ae = AE(ae_title=node.local_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = node.timeout_s
    ae.connection_timeout = min(10.0, node.timeout_s)
    return ae


@contextmanager
def association(node: PacsNode, contexts: list, *, roles=None, handlers=None):
    """An established association to ``node`` with ``contexts`` requested; released (or aborted) after."""
    ae = _ae(node)
    for cx in contexts:
        ae.add_requested_context(cx.abstract_syntax if hasattr(cx, "abstract_syntax") else cx,
                                 *(cx.transfer_syntax,) if hasattr(cx, "transfer_syntax") else ())
    answers: list = []
    handlers = list(handlers or []) + [(evt.EVT_ACSE_RECV, lambda event: answers.append(event.primitive))]
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title, ext_neg=roles or [], evt_handlers=handlers)
    if not assoc.is_established:
        rejection = next((p for p in answers if getattr(p, "result", None) in (0x01, 0x02)), None)
        if assoc.is_rejected or rejection is not None:
            raise messages.association_rejected(node, *(getattr(rejection, a, "") for a in
                                                       ("result_str", "source_str", "reason_str")))
        if any(getattr(p, "result", None) == 0x00 for p in answers):  # accepted, but no context we asked for
            raise PacsError(f"{node.describe()} accepted the connection but none of the requested services "
                            f"(it aborted the association): check that it offers DICOM query/retrieve")
        raise messages.no_answer(node)
    ok = False
    try:
        yield assoc
        ok = True
    finally:
        if ok and assoc.is_established:
            assoc.release()
        elif assoc.is_established:
            assoc.abort()
        ae.shutdown()


def _accepts(assoc, abstract_syntax) -> bool:
    return any(cx.abstract_syntax == abstract_syntax for cx in assoc.accepted_contexts)


def echo(node: PacsNode) -> str:
    """C-ECHO; returns a sentence on success."""
    with association(node, [Verification]) as assoc:
        status = assoc.send_c_echo()
        if not status or "Status" not in status:
            raise messages.no_answer(node)
        if status.Status != 0x0000:
            raise messages.failed_status(node, "C-ECHO", status.Status)
    return f"{node.describe()} answers C-ECHO"


def _find(node: PacsNode, identifier: Dataset, operation: str) -> list[Dataset]:
    out = []
    with association(node, [StudyRootQueryRetrieveInformationModelFind]) as assoc:
        for status, found in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
            if not status or "Status" not in status:
                raise messages.query_dropped(node, operation)
            if status.Status in _PENDING:
                if found is None:
                    raise messages.malformed(node, operation, "a pending answer without an identifier")
                out.append(found)
            elif status.Status != 0x0000:
                raise messages.failed_status(node, operation, status.Status, str(status.get("ErrorComment", "")))
    return out


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyHit]:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    for keyword, value in (("StudyInstanceUID", query.study_uid), ("PatientID", query.patient_id),
                           ("PatientName", query.patient_name), ("StudyDate", query.date_range()),
                           ("ModalitiesInStudy", query.modality), ("AccessionNumber", query.accession),
                           ("StudyDescription", ""), ("NumberOfStudyRelatedInstances", ""),
                           ("NumberOfStudyRelatedSeries", "")):
        setattr(ds, keyword, value)
    hits = []
    for found in _find(node, ds, "the study search (C-FIND)")[: query.limit]:
        modalities = found.get("ModalitiesInStudy", [])
        modalities = [modalities] if isinstance(modalities, str) else list(modalities or [])
        hits.append(StudyHit(study_uid=str(found.get("StudyInstanceUID", "")), patient_id=str(found.get("PatientID", "")),
                             patient_name=str(found.get("PatientName", "")), date=str(found.get("StudyDate", "")),
                             description=str(found.get("StudyDescription", "")),
                             accession=str(found.get("AccessionNumber", "")),
                             modalities=tuple(str(m) for m in modalities if m),
                             n_series=_int(found, "NumberOfStudyRelatedSeries"),
                             n_instances=_int(found, "NumberOfStudyRelatedInstances")))
    return hits


def find_series(node: PacsNode, study_uid: str) -> list[SeriesHit]:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = ds.Modality = ds.SeriesDescription = ds.NumberOfSeriesRelatedInstances = ""
    return [SeriesHit(study_uid=study_uid, series_uid=str(f.get("SeriesInstanceUID", "")), modality=str(f.get("Modality", "")),
                      description=str(f.get("SeriesDescription", "")), n_instances=_int(f, "NumberOfSeriesRelatedInstances"))
            for f in _find(node, ds, "the series search (C-FIND)")]


def _series_identifier(series: SeriesHit) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = series.study_uid
    ds.SeriesInstanceUID = series.series_uid
    return ds


def store_handler(on_instance: OnInstance):
    """An EVT_C_STORE handler that hands the encoded instance on; a write failure answers 0xA700."""
    def _handle(event) -> int:
        try:
            on_instance(str(event.request.AffectedSOPInstanceUID), event.encoded_dataset(include_meta=True))
        except Exception:  # a full disk must not kill the association thread; the PACS hears "out of resources"
            log.exception("storing a received instance failed")
            return 0xA700
        return 0x0000
    return _handle


def _final_counts(status: Dataset) -> tuple[int, int]:
    return (int(status.get("NumberOfCompletedSuboperations", 0) or 0),
            int(status.get("NumberOfFailedSuboperations", 0) or 0))


def get_series(node: PacsNode, series: SeriesHit, on_instance: OnInstance, check: Callable[[], None]) -> int:
    """C-GET one series on one association; instances come back on it. Returns how many arrived."""
    contexts = [StudyRootQueryRetrieveInformationModelGet] + [cx for cx in StoragePresentationContexts]
    roles = [build_role(cx.abstract_syntax, scp_role=True) for cx in StoragePresentationContexts]
    arrived = [0]

    def _count(sop, data):
        on_instance(sop, data)
        arrived[0] += 1

    handlers = [(evt.EVT_C_STORE, store_handler(_count))]
    with association(node, contexts[:128], roles=roles, handlers=handlers) as assoc:
        if not _accepts(assoc, StudyRootQueryRetrieveInformationModelGet):
            raise messages.get_refused(node, "it did not accept the C-GET service")
        for status, _ in assoc.send_c_get(_series_identifier(series), StudyRootQueryRetrieveInformationModelGet):
            check()
            if not status or "Status" not in status:
                if arrived[0] == 0:  # how Orthanc answers a C-GET it does not allow us: it drops the association
                    raise messages.get_refused(node, "it closed the association on the C-GET request without "
                                                     "sending anything")
                raise messages.peer_vanished(node, "C-GET", arrived[0], series.n_instances)
            code = status.Status
            if code in _PENDING:
                continue
            if code in (0x0122, 0x0124, 0xA702) and arrived[0] == 0:
                raise messages.get_refused(node, f"status {messages.hexcode(code)}", code)
            if code not in (0x0000, 0xB000):
                raise messages.failed_status(node, "C-GET", code, str(status.get("ErrorComment", "")))
    return arrived[0]


def move_series(node: PacsNode, series: SeriesHit, arrived: Callable[[], int], check: Callable[[], None]) -> int:
    """C-MOVE one series to our own listener (already running); ``arrived()`` counts what it received.

    Returns the PACS's count of completed sub-operations. A801 → the PACS does not know us; a move
    that ends with nothing received, or no progress within ``timeout_s``, → it cannot reach us.
    """
    return _move(node, _series_identifier(series), arrived, check, series.n_instances)


def _move(node: PacsNode, identifier: Dataset, arrived: Callable[[], int], check: Callable[[], None],
          expected: int | None) -> int:
    with association(node, [StudyRootQueryRetrieveInformationModelMove]) as assoc:
        responses = assoc.send_c_move(identifier, node.local_ae_title, StudyRootQueryRetrieveInformationModelMove)
        for status, _ in responses:
            check()
            if not status or "Status" not in status:
                if arrived() == 0:  # the PACS went silent before sending anything: it is stuck connecting to us
                    raise messages.listener_unreachable(node)
                raise messages.peer_vanished(node, "C-MOVE", arrived(), expected)
            code = status.Status
            if code in _PENDING:
                continue
            if code == 0xA801:
                raise messages.unknown_move_destination(node)
            completed, _failed = _final_counts(status)
            if code == 0xC502:
                raise messages.listener_unreachable(node, code)
            if code != 0x0000 and completed == 0 and arrived() == 0:  # e.g. Orthanc's 0xC000 for both causes
                raise messages.move_failed_nothing_sent(node, code)
            if code not in (0x0000, 0xB000):
                raise messages.failed_status(node, "C-MOVE", code, str(status.get("ErrorComment", "")))
            return completed
    return arrived()


def loopback_move(node: PacsNode, arrived: Callable[[], int]) -> str:
    """Move one instance of the PACS's first study to our listener (already running); a sentence on success.

    The test a radiologist needs before a C-MOVE retrieve: it fails exactly where a retrieve would (A801,
    C502, a move that never arrives) but costs one image."""
    study = Dataset()
    study.QueryRetrieveLevel, study.StudyInstanceUID = "STUDY", ""
    studies = _find(node, study, "the loopback test's study search (C-FIND)")
    if not studies:
        return f"C-MOVE not tested: {node.describe()} holds no study to move"
    study_uid = str(studies[0].StudyInstanceUID)
    series = find_series(node, study_uid)
    if not series:
        return f"C-MOVE not tested: study {study_uid} has no series"
    image = Dataset()
    image.QueryRetrieveLevel = "IMAGE"
    image.StudyInstanceUID, image.SeriesInstanceUID, image.SOPInstanceUID = study_uid, series[0].series_uid, ""
    images = _find(node, image, "the loopback test's image search (C-FIND)")
    if not images:
        return f"C-MOVE not tested: series {series[0].series_uid} has no instance"
    image.SOPInstanceUID = str(images[0].SOPInstanceUID)
    _move(node, image, arrived, lambda: None, 1)
    if not wait_for(lambda: arrived() >= 1, 2.0):
        raise messages.listener_unreachable(node)
    return (f"C-MOVE to {node.local_ae_title} on {node.listener_host}:{node.listener_port} works "
            f"(one instance arrived)")


def store_datasets(node: PacsNode, datasets: list[Dataset]) -> int:
    """C-STORE each dataset on one association; returns how many were stored."""
    classes = sorted({str(ds.SOPClassUID) for ds in datasets})
    stored = 0
    with association(node, classes) as assoc:
        for ds in datasets:
            if not _accepts(assoc, ds.SOPClassUID):
                raise PacsError(f"{node.describe()} does not accept {ds.SOPClassUID.name} objects (C-STORE context "
                                f"rejected)")
            status = assoc.send_c_store(ds)
            if not status or "Status" not in status:
                raise messages.peer_vanished(node, "C-STORE", stored, len(datasets))
            if status.Status not in (0x0000, 0xB000, 0xB007, 0xB006):
                raise messages.failed_status(node, "C-STORE", status.Status, str(status.get("ErrorComment", "")))
            stored += 1
    return stored


def wait_for(predicate: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()
