"""The retrieve job: a study from a PACS into the local store, one series at a time, resumable.

For each series the PACS lists (with its instance count): instances arrive into the series'
staging folder (:mod:`.staging`; already-staged ones are skipped, so a second run resumes), and
only when the folder holds the announced count does it move into ``pacs/<study>/<series>/`` and
get indexed. A cancel, a broken connection or a short series leaves the staging folder alone and
the index untouched: no half-imported series is ever visible.

Method: DICOMweb nodes use WADO-RS; DIMSE nodes use C-GET, and C-MOVE to our own listener when
the PACS refuses C-GET (``method="auto"``), or exactly what ``method`` names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from medstation.imaging.indexer import index_paths
from medstation.imaging.pacs import dicomweb, dimse, messages
from medstation.imaging.pacs.listener import StorageListener
from medstation.imaging.pacs.node import GetRefused, PacsError, PacsNode, SeriesHit
from medstation.imaging.pacs.staging import SeriesStaging, is_complete
from medstation.jobs import JobContext
from medstation.store.database import Database

METHODS = ("auto", "wado", "get", "move")


@dataclass
class RetrieveReport:
    """What a retrieve did. ``instances`` = instances received in this run (resumed ones not counted)."""

    study_uid: str
    method: str = ""
    series_imported: list[str] = field(default_factory=list)
    series_already_complete: list[str] = field(default_factory=list)
    instances: int = 0
    seconds: float = 0.0
    folders: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rate = self.instances / self.seconds if self.seconds > 0 else 0.0
        return (f"study {self.study_uid}: {len(self.series_imported)} series imported, "
                f"{len(self.series_already_complete)} already complete, {self.instances} instances in "
                f"{self.seconds:.1f} s ({rate:.1f}/s) by {self.method}")


class _Progress:
    def __init__(self, ctx: JobContext, total: int | None) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    def tick(self) -> None:
        self.done += 1
        if self.total:
            self.ctx.report(min(0.99, self.done / self.total), f"received {self.done}/{self.total} instances")
        elif self.done % 10 == 0:
            self.ctx.report(0.5, f"received {self.done} instances")


def _writer(staging: SeriesStaging, have: set[str], progress: _Progress, counter: list[int]):
    def _on_instance(sop_uid: str, data: bytes) -> None:
        if sop_uid in have:  # resumed: already staged whole
            return
        staging.write(sop_uid, data)
        have.add(sop_uid)
        counter[0] += 1
        progress.tick()
    return _on_instance


def retrieve_study(ctx: JobContext, db: Database, root: Path, node: PacsNode, study_uid: str, *,
                   method: str = "auto", listener_host: str = "0.0.0.0") -> RetrieveReport:
    """Job: fetch ``study_uid`` from ``node`` into ``root`` (``$MEDSTATION_HOME/pacs``) and index it."""
    if method not in METHODS:
        raise PacsError(f"unknown retrieve method {method!r}; use one of {', '.join(METHODS)}")
    if node.is_dicomweb and method in ("get", "move") or not node.is_dicomweb and method == "wado":
        raise PacsError(f"{method} does not apply to {node.describe()}")
    started = time.monotonic()
    ctx.report(0.0, f"listing the series of study {study_uid}")
    session = requests.Session() if node.is_dicomweb else None
    series_list = (dicomweb.find_series(node, study_uid, session) if node.is_dicomweb
                   else dimse.find_series(node, study_uid))
    if not series_list:
        raise PacsError(f"{node.describe()} has no study {study_uid} (or it has no series)")
    report = RetrieveReport(study_uid=study_uid, method="wado" if node.is_dicomweb else method)
    known = [s.n_instances for s in series_list]
    progress = _Progress(ctx, sum(known) if all(n is not None for n in known) else None)
    listener: StorageListener | None = None
    routes: dict[str, Callable[[str, bytes], None]] = {}  # series UID -> its writer, for C-MOVE arrivals
    # Promote + index a complete series on one background thread while the next series downloads:
    # indexing costs about as much per instance as fetching it (measured: bench_pacs_retrieve.py).
    indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pacs-index")
    pending: list[Future] = []
    try:
        for series in series_list:
            ctx.check()
            staging = SeriesStaging(root, study_uid, series.series_uid)
            if is_complete(staging.final, series.n_instances) and not staging.folder.exists():
                index_paths(JobContext(), db, [staging.final])  # cheap when unchanged; heals a lost index
                report.series_already_complete.append(series.series_uid)
                progress.done += series.n_instances or 0
                continue
            staging.prepare()
            have = staging.staged_uids()
            progress.done += len(have)
            counter = [0]
            on_instance = _writer(staging, have, progress, counter)
            if node.is_dicomweb:
                dicomweb.retrieve_series(node, series, set(have), session, on_instance, ctx.check)
            else:
                if report.method in ("auto", "get"):
                    try:
                        dimse.get_series(node, series, on_instance, ctx.check)
                        report.method = "get"
                    except GetRefused:
                        if report.method == "get":
                            raise
                        report.method = "move"
                if report.method == "move":
                    if listener is None:
                        listener = StorageListener(lambda sop, se, st, data: routes[se](sop, data) if se in routes
                                                   else None, ae_title=node.local_ae_title,
                                                   port=node.listener_port, host=listener_host).start()
                    routes[series.series_uid] = on_instance
                    dimse.move_series(node, series, lambda: counter[0], ctx.check)
                    # the last C-STORE may still be finishing on the listener's thread
                    expected = series.n_instances
                    dimse.wait_for(lambda: expected is None or len(have) >= expected, 2.0)
            _check_complete(node, staging, series)
            pending.append(indexer.submit(_promote_and_index, ctx, db, staging, series, report))
            report.instances += counter[0]
        for done in pending:
            done.result()  # an indexing failure surfaces here, after every download
    finally:
        if listener is not None:
            listener.stop()
        if session is not None:
            session.close()
        indexer.shutdown(wait=True)  # complete series already handed over are still imported after a cancel
    report.seconds = time.monotonic() - started
    ctx.report(1.0, report.summary())
    return report


def _check_complete(node: PacsNode, staging: SeriesStaging, series: SeriesHit) -> None:
    """Raise unless the staging folder holds every instance the PACS announced."""
    got = len(staging.staged_uids())
    if series.n_instances is not None and got < series.n_instances:
        raise messages.incomplete(node, series.series_uid, got, series.n_instances)
    if got == 0:
        raise PacsError(f"{node.describe()} sent no instance of series {series.series_uid}")


def _promote_and_index(ctx: JobContext, db: Database, staging: SeriesStaging, series: SeriesHit,
                       report: RetrieveReport) -> None:
    """Move the complete series into its study folder and index it (the indexing thread); then
    ``ctx.partial(series_uid)``: that series is now visible in the local index."""
    final = staging.promote()
    index_paths(JobContext(), db, [final])
    report.series_imported.append(series.series_uid)
    report.folders.append(str(final))
    ctx.partial(series.series_uid)
