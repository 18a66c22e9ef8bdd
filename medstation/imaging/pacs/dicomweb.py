"""DICOMweb: QIDO-RS probe and search, WADO-RS per series, STOW-RS, through ``dicomweb-client``.

Retrieval is per series (``/studies/{s}/series/{se}``), never study-level metadata, which stalls on
large studies. One ``requests.Session`` (one keep-alive connection) serves a whole retrieve.
Every HTTP or decoding failure leaves here as a :class:`~.node.PacsError` in plain words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from medstation.imaging.pacs import messages
from medstation.imaging.pacs.node import PacsError, PacsNode, SeriesHit, StudyHit, StudyQuery

_STUDY_FIELDS = ["NumberOfStudyRelatedInstances", "NumberOfStudyRelatedSeries", "ModalitiesInStudy",
                 "StudyDescription", "AccessionNumber"]
_SERIES_FIELDS = ["NumberOfSeriesRelatedInstances", "Modality", "SeriesDescription"]


def client(node: PacsNode, session: requests.Session | None = None) -> DICOMwebClient:
    web = DICOMwebClient(node.dicomweb_url, session=session or requests.Session(),
                         timeout=(min(10.0, node.timeout_s), node.timeout_s))
    # dicomweb-client retries with exponential back-off by default (30 s before "cannot reach"): a person
    # waiting on "Test connection" wants the answer now, and a retrieve resumes where it stopped anyway.
    web.set_http_retry_params(retry=False)
    return web


@contextmanager
def explained(node: PacsNode, operation: str):
    """Turn requests / decoding failures inside the block into a plain-words :class:`PacsError`."""
    try:
        yield
    except PacsError:
        raise
    except requests.HTTPError as exc:
        response = exc.response
        raise messages.http_failure(node, operation, response.status_code if response is not None else 0,
                                    response.text if response is not None else "") from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise messages.http_unreachable(node, exc) from exc
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:  # JSON/multipart/DICOM decoding
        raise messages.malformed(node, operation, f"{type(exc).__name__}: {str(exc)[:120]}") from exc


def _dataset(item: dict) -> Dataset:
    if not isinstance(item, dict):
        raise ValueError("a QIDO result is not a JSON object")
    return Dataset.from_json(item)


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def echo(node: PacsNode) -> str:
    """A QIDO probe (one study, no filters); returns a sentence on success."""
    with explained(node, "the QIDO-RS probe"):
        client(node).search_for_studies(limit=1)
    return f"{node.describe()} answers QIDO-RS"


def study_filters(query: StudyQuery) -> dict:
    filters = {"PatientID": query.patient_id, "PatientName": query.patient_name, "StudyDate": query.date_range(),
               "ModalitiesInStudy": query.modality, "AccessionNumber": query.accession,
               "StudyInstanceUID": query.study_uid}
    return {k: v for k, v in filters.items() if v}


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyHit]:
    with explained(node, "the study search (QIDO-RS)"):
        items = client(node).search_for_studies(search_filters=study_filters(query), fields=_STUDY_FIELDS,
                                                limit=query.limit)
        hits = []
        for item in items:
            ds = _dataset(item)
            modalities = ds.get("ModalitiesInStudy", [])
            modalities = [modalities] if isinstance(modalities, str) else list(modalities or [])
            hits.append(StudyHit(study_uid=_text(ds, "StudyInstanceUID"), patient_id=_text(ds, "PatientID"),
                                 patient_name=_text(ds, "PatientName"), date=_text(ds, "StudyDate"),
                                 description=_text(ds, "StudyDescription"), accession=_text(ds, "AccessionNumber"),
                                 modalities=tuple(str(m) for m in modalities),
                                 n_series=_int(ds, "NumberOfStudyRelatedSeries"),
                                 n_instances=_int(ds, "NumberOfStudyRelatedInstances")))
    return hits


def find_series(node: PacsNode, study_uid: str, session: requests.Session | None = None) -> list[SeriesHit]:
    with explained(node, "the series search (QIDO-RS)"):
        items = client(node, session).search_for_series(study_uid, fields=_SERIES_FIELDS)
        out = []
        for item in items:
            ds = _dataset(item)
            out.append(SeriesHit(study_uid=study_uid, series_uid=_text(ds, "SeriesInstanceUID"),
                                 modality=_text(ds, "Modality"), description=_text(ds, "SeriesDescription"),
                                 n_instances=_int(ds, "NumberOfSeriesRelatedInstances")))
    return out


def _part10(ds: Dataset) -> bytes:
    buf = BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def retrieve_series(node: PacsNode, series: SeriesHit, have: set[str], session: requests.Session,
                    on_instance: Callable[[str, bytes], None], check: Callable[[], None]) -> int:
    """WADO-RS: fetch the series' instances not in ``have`` and hand each to ``on_instance(sop_uid, part10)``.

    Nothing staged: one streamed series request. A resume: list the series' instances (QIDO) and fetch
    only the missing ones, each by its own request on the same session. Returns how many arrived.
    """
    web = client(node, session)
    got = 0
    with explained(node, f"WADO-RS retrieve of series {series.series_uid}"):
        if have:
            listed = web.search_for_instances(series.study_uid, series.series_uid, fields=["SOPInstanceUID"])
            missing = [_text(_dataset(i), "SOPInstanceUID") for i in listed]
            stream: Iterator[Dataset] = (web.retrieve_instance(series.study_uid, series.series_uid, uid)
                                         for uid in missing if uid not in have)
        else:
            stream = web.iter_series(series.study_uid, series.series_uid)
        try:
            for ds in stream:
                check()
                on_instance(str(ds.SOPInstanceUID), _part10(ds))
                got += 1
        except (requests.exceptions.ChunkedEncodingError, pydicom.errors.InvalidDicomError, EOFError, OSError) as exc:
            if isinstance(exc, PacsError):
                raise
            raise messages.peer_vanished(node, "WADO-RS", got, series.n_instances) from exc
    return got


def store(node: PacsNode, datasets: list[Dataset]) -> int:
    """STOW-RS the datasets (one request); returns how many the server accepted."""
    with explained(node, "STOW-RS"):
        response = client(node).store_instances(datasets)
        failed = response.get("00081198", {}).get("Value", []) if isinstance(response, dict) else []
        if failed:
            raise PacsError(f"STOW-RS on {node.describe()}: the server refused {len(failed)} of {len(datasets)} "
                            f"instances")
    return len(datasets)
