"""PACS retrieve throughput (instances/s) over DICOMweb (WADO-RS), C-GET and C-MOVE, against a real Orthanc,
each beside a plain dicomweb-client / pynetdicom loop measured in the same run.

    .venv/bin/python benchmarks/bench_pacs_retrieve.py [--series 3] [--slices 40] [--size 256] [--repeats 3]

Starts Orthanc (Debian packages orthanc, orthanc-dicomweb) on free loopback ports with a generated
configuration, uploads a synthetic study (int16, uncompressed, real UIDs), then times whole-study
retrieves. "ours" is the full product path: staging, atomic writes, completeness check, promote and
index into a fresh MEDSTATION_HOME database. The plain loops only fetch and write files, as a script
would (dicomweb-client ``retrieve_series`` + ``save_as``; pynetdicom C-GET / C-MOVE with an SCP that
decodes and ``save_as``-es each instance). Median of ``--repeats``. Target: >= 30 instances/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 30.0


def _study(folder: Path, n_series: int, slices: int, size: int) -> tuple[str, int]:
    import pydicom
    from medstation.imaging.synthetic import SeriesSpec, write_series

    paths, study_uid = [], None
    for k in range(n_series):
        for p in write_series(folder / f"s{k}", SeriesSpec(n_slices=slices, rows=size, columns=size, patient_id="BENCH")):
            ds = pydicom.dcmread(p)
            study_uid = study_uid or str(ds.StudyInstanceUID)
            ds.StudyInstanceUID = study_uid
            ds.save_as(p)
            paths.append(p)
    return study_uid, paths


def ours(node, study_uid: str, method: str, home: Path):
    """A fresh data folder and database (made before the clock starts); returns the timed retrieve."""
    from medstation.access.roles import UserSession
    from medstation.config import Settings
    from medstation.imaging.pacs.service import PacsService
    from medstation.jobs import JobContext
    from medstation.access.encryption import open_database

    settings = Settings(home=home)
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    service = PacsService(settings, db, UserSession.from_os_user())

    def retrieve() -> int:
        try:
            return service.retrieve_job(JobContext(), node, study_uid, method=method,
                                        listener_host="127.0.0.1").instances
        finally:
            db.close()
    return retrieve


def plain_dicomweb(url: str, study_uid: str, out: Path) -> int:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(url)
    n = 0
    for series in client.search_for_series(study_uid):
        series_uid = series["0020000E"]["Value"][0]
        for ds in client.retrieve_series(study_uid, series_uid):
            ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
            n += 1
    return n


def _series_uids(ae_title: str, port: int, study_uid: str) -> list[str]:
    from pydicom.dataset import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND

    ae = AE(ae_title="PLAIN")
    ae.add_requested_context(FIND)
    assoc = ae.associate("127.0.0.1", port, ae_title=ae_title)
    q = Dataset()
    q.QueryRetrieveLevel, q.StudyInstanceUID, q.SeriesInstanceUID = "SERIES", study_uid, ""
    uids = [str(ident.SeriesInstanceUID) for status, ident in assoc.send_c_find(q, FIND) if ident is not None]
    assoc.release()
    return uids


def plain_get(ae_title: str, port: int, study_uid: str, out: Path) -> int:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, StoragePresentationContexts, build_role, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet as GET

    count = [0]

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        count[0] += 1
        return 0x0000

    for series_uid in _series_uids(ae_title, port, study_uid):
        ae = AE(ae_title="MEDSTATION")
        ae.add_requested_context(GET)
        for cx in StoragePresentationContexts[:127]:
            ae.add_requested_context(cx.abstract_syntax)
        roles = [build_role(cx.abstract_syntax, scp_role=True) for cx in StoragePresentationContexts[:127]]
        assoc = ae.associate("127.0.0.1", port, ae_title=ae_title, ext_neg=roles,
                             evt_handlers=[(evt.EVT_C_STORE, on_store)])
        q = Dataset()
        q.QueryRetrieveLevel, q.StudyInstanceUID, q.SeriesInstanceUID = "SERIES", study_uid, series_uid
        for _status, _ in assoc.send_c_get(q, GET):
            pass
        assoc.release()
    return count[0]


def plain_move(ae_title: str, port: int, listener_port: int, study_uid: str, out: Path) -> int:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove as MOVE

    count = [0]

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        count[0] += 1
        return 0x0000

    scp = AE(ae_title="MEDSTATION")
    scp.supported_contexts = AllStoragePresentationContexts
    server = scp.start_server(("127.0.0.1", listener_port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        for series_uid in _series_uids(ae_title, port, study_uid):
            ae = AE(ae_title="MEDSTATION")
            ae.add_requested_context(MOVE)
            assoc = ae.associate("127.0.0.1", port, ae_title=ae_title)
            q = Dataset()
            q.QueryRetrieveLevel, q.StudyInstanceUID, q.SeriesInstanceUID = "SERIES", study_uid, series_uid
            for _status, _ in assoc.send_c_move(q, "MEDSTATION", MOVE):
                pass
            assoc.release()
    finally:
        server.shutdown()
    return count[0]


def _median_rate(fn, repeats: int, n_expected: int, *, prepared: bool = False) -> float:
    """Median instances/s; ``prepared``: ``fn()`` returns the function to time (set-up not timed)."""
    rates = []
    for _ in range(repeats):
        run = fn() if prepared else fn
        t0 = time.perf_counter()
        n = run()
        dt = time.perf_counter() - t0
        if n != n_expected:
            raise SystemExit(f"retrieved {n} of {n_expected} instances: the benchmark is invalid")
        rates.append(n / dt)
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=3)
    parser.add_argument("--slices", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from medstation.imaging.pacs.node import PacsNode
    from tests.orthanc_support import ORTHANC_BINARY, SKIP_REASON, OrthancServer, free_port

    if ORTHANC_BINARY is None:
        print(SKIP_REASON)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        listener_port = free_port()
        study_uid, paths = _study(tmp / "src", args.series, args.slices, args.size)
        n = len(paths)
        with OrthancServer(tmp / "orthanc", modalities={"medstation": ("MEDSTATION", "127.0.0.1", listener_port)}) as pacs:
            pacs.upload(paths)
            web = PacsNode(dicomweb_url=pacs.dicomweb_url)
            dimse = PacsNode(ae_title=pacs.aet, host="127.0.0.1", port=pacs.dicom_port, listener_port=listener_port)
            runs = iter(range(10**6))

            def fresh() -> Path:
                folder = tmp / f"run{next(runs)}"
                folder.mkdir()
                return folder

            rows = [
                ("DICOMweb (WADO-RS)", _median_rate(lambda: ours(web, study_uid, "auto", fresh()), args.repeats, n, prepared=True),
                 _median_rate(lambda: plain_dicomweb(pacs.dicomweb_url, study_uid, fresh()), args.repeats, n)),
                ("C-GET", _median_rate(lambda: ours(dimse, study_uid, "get", fresh()), args.repeats, n, prepared=True),
                 _median_rate(lambda: plain_get(pacs.aet, pacs.dicom_port, study_uid, fresh()), args.repeats, n)),
                ("C-MOVE", _median_rate(lambda: ours(dimse, study_uid, "move", fresh()), args.repeats, n, prepared=True),
                 _median_rate(lambda: plain_move(pacs.aet, pacs.dicom_port, listener_port, study_uid, fresh()),
                              args.repeats, n)),
            ]
    print(f"study: {args.series} series x {args.slices} instances of {args.size}x{args.size} int16 "
          f"({n} instances), median of {args.repeats}, {os.cpu_count()} CPUs")
    print(f"{'method':<20} {'ours (inst/s)':>14} {'plain loop (inst/s)':>20}  target >= {TARGET:g}")
    ok = True
    for name, mine, plain in rows:
        passed = mine >= TARGET
        ok &= passed
        print(f"{name:<20} {mine:>14.1f} {plain:>20.1f}  {'PASS' if passed else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
