"""``PacsService``: the PACS facade for the command line and the viewer (permission, job, audit).

Each method checks the acting user's permission first and audits what reached or left the
workstation: ``pacs.retrieve`` (instances in), ``pacs.send`` (objects out), ``pacs.receive``
(a listening session). Retrieved and received files live under ``$MEDSTATION_HOME/pacs``.
"""

from __future__ import annotations

from pathlib import Path

from medstation.access.roles import Permission, UserSession
from medstation.config import Settings
from medstation.imaging.indexer import index_paths
from medstation.imaging.pacs import dicomweb, dimse
from medstation.imaging.pacs.listener import ReceiveIndexer, StorageListener, listen
from medstation.imaging.pacs.node import PacsNode, StudyHit, StudyQuery
from medstation.imaging.pacs.retrieve import RetrieveReport, retrieve_study
from medstation.imaging.pacs.send import SendReport, send_files
from medstation.jobs import JobContext
from medstation.store.database import Database


class PacsService:
    """Echo, query, retrieve, send and receive. Thread-safe: no state beyond its collaborators."""

    def __init__(self, settings: Settings, db: Database, session: UserSession) -> None:
        self.settings = settings
        self.db = db
        self.session = session

    @property
    def root(self) -> Path:
        return self.settings.home / "pacs"

    def test_connection(self, node: PacsNode, *, loopback_move: bool = True, listener_host: str = "0.0.0.0") -> list[str]:
        """C-ECHO (and, for DIMSE, a one-instance C-MOVE to our listener) or a QIDO probe.

        Returns the sentences of what worked; raises :class:`~.node.PacsError` at the first failure."""
        self.session.require(Permission.view_imaging)
        if node.is_dicomweb:
            return [dicomweb.echo(node)]
        lines = [dimse.echo(node)]
        if loopback_move:
            with StorageListener(lambda *a: None, ae_title=node.local_ae_title, port=node.listener_port,
                                 host=listener_host) as listener:
                lines.append(dimse.loopback_move(node, lambda: listener.received))
        return lines

    def query(self, node: PacsNode, query: StudyQuery) -> list[StudyHit]:
        self.session.require(Permission.view_imaging)
        return dicomweb.find_studies(node, query) if node.is_dicomweb else dimse.find_studies(node, query)

    def query_job(self, ctx: JobContext, node: PacsNode, query: StudyQuery) -> list[StudyHit]:
        ctx.report(0.0, f"searching {node.describe()}")
        hits = self.query(node, query)
        ctx.report(1.0, f"{len(hits)} studies")
        return hits

    def retrieve_job(self, ctx: JobContext, node: PacsNode, study_uid: str, *, method: str = "auto",
                     listener_host: str = "0.0.0.0") -> RetrieveReport:
        """Job: the study into the local store, indexed series by series as each completes."""
        actor = self.session.require(Permission.view_imaging)
        report = retrieve_study(ctx, self.db, self.root, node, study_uid, method=method, listener_host=listener_host)
        self.db.audit("pacs.retrieve", actor=actor, entity="study", entity_id=study_uid, node=node.describe(),
                      method=report.method, series=len(report.series_imported), instances=report.instances)
        return report

    def send_job(self, ctx: JobContext, node: PacsNode, paths: list[str | Path]) -> SendReport:
        """Job: send DICOM files (DICOM-SEG of accepted segments) to ``node``; audited as ``pacs.send``."""
        actor = self.session.require(Permission.export_imaging)
        ctx.report(0.0, f"sending {len(paths)} files to {node.describe()}")
        report = send_files(self.db, node, [Path(p) for p in paths])
        self.db.audit("pacs.send", actor=actor, entity="node", entity_id=node.describe(), sop_uids=report.sent,
                      files=report.files)
        ctx.report(1.0, report.summary(node))
        return report

    def start_receiver_job(self, ctx: JobContext, *, ae_title: str, port: int, host: str = "0.0.0.0") -> "Receiver":
        """Job: start the C-STORE SCP and return it running (on pynetdicom's threads, indexing on its own).

        For the viewer, where a job that listens until cancelled would hold a runner lane; stop it
        with :meth:`Receiver.stop` (also a job: it indexes what is queued and audits ``pacs.receive``)."""
        actor = self.session.require(Permission.view_imaging)
        ctx.report(0.0, f"starting the listener {ae_title} on {host}:{port}")
        sink = ReceiveIndexer(self.root / "received", lambda paths: index_paths(JobContext(), self.db, paths))
        try:
            listener = StorageListener(sink, ae_title=ae_title, port=port, host=host).start()
        except Exception:
            sink.close()
            raise
        return Receiver(self.db, actor, listener, sink)

    def listen_job(self, ctx: JobContext, *, ae_title: str, port: int, host: str = "0.0.0.0") -> int:
        """Job: receive pushed studies until cancelled, indexing them as they arrive; returns the count."""
        actor = self.session.require(Permission.view_imaging)
        sink = ReceiveIndexer(self.root / "received", lambda paths: index_paths(JobContext(), self.db, paths))
        try:
            received = listen(ctx, sink, ae_title=ae_title, port=port, host=host)
        finally:
            sink.close()
        self.db.audit("pacs.receive", actor=actor, entity="listener", entity_id=f"{ae_title}@{host}:{port}",
                      instances=received)
        return received


class Receiver:
    """A running storage listener started by :meth:`PacsService.start_receiver_job`.

    ``received``: instances accepted so far; ``indexed``: of those, how many are in the local index."""

    def __init__(self, db: Database, actor, listener: StorageListener, sink: ReceiveIndexer) -> None:
        self.db, self.actor, self.listener, self.sink = db, actor, listener, sink

    @property
    def address(self) -> str:
        return f"{self.listener.ae_title}@{self.listener.host}:{self.listener.port}"

    @property
    def received(self) -> int:
        return self.listener.received

    @property
    def indexed(self) -> int:
        return self.sink.indexed

    def stop(self, ctx: JobContext | None = None) -> int:
        """Stop listening, index what is still queued, audit the session; returns the instances received."""
        self.listener.stop()
        self.sink.close()
        self.db.audit("pacs.receive", actor=self.actor, entity="listener", entity_id=self.address,
                      instances=self.received)
        return self.received
