"""Knowledge-base versions and document rows in the app database (``kb_version``, ``kb_document``).

The app database may be a clinic's PostgreSQL server shared by several workstations, each able
to ingest into the one knowledge-base server. So a version records who builds it
(``meta["builder"] = {"host", "pid"}``), and a new run marks ``failed`` only the versions left
``building`` by a run that is over: one of this process (a process ingests one run at a time),
or of this host whose pid no longer runs, or a row written before builders were recorded;
never another workstation's, nor another live process's, run in progress.
"""

from __future__ import annotations

import os
import socket

from sqlmodel import func, select

from medstation.rag.types import KbVersionInfo, KbVersionStatus
from medstation.store.database import Database
from medstation.store.tables import KbDocument, KbVersion, utcnow

FINISHED = ("complete", "cancelled", "failed")


def to_info(row: KbVersion) -> KbVersionInfo:
    meta = row.meta or {}
    return KbVersionInfo(
        id=int(row.id), embedding_model=row.embedding_model, chunk_chars=row.chunk_chars,
        chunk_overlap=row.chunk_overlap, doc_count=row.doc_count, chunk_count=row.chunk_count,
        status=KbVersionStatus(row.status), created_at=row.created_at, embedding_sha256=row.embedding_sha256,
        collection=row.collection, added_docs=int(meta.get("added_docs", 0)),
        removed_docs=int(meta.get("removed_docs", 0)), skipped_docs=int(meta.get("skipped_docs", 0)),
        unreadable=tuple(str(u) for u in meta.get("unreadable") or ()),
        unsupported=tuple(str(u) for u in meta.get("unsupported") or ()),
        unsupported_count=int(meta.get("unsupported_count", 0)),
        found_docs=int(meta["found_docs"]) if meta.get("found_docs") is not None else None,
        path=str(meta.get("path") or ""),
    )


def current_version(db: Database) -> KbVersionInfo | None:
    """The newest finished version (complete, cancelled or failed: each records the knowledge base as its run
    left it, and a stopped run's finished documents stay searchable, so an answer quoting them names that
    version); if none finished yet, the newest of any status."""
    with db.session() as s:
        row = s.exec(select(KbVersion).where(KbVersion.status.in_(FINISHED)).order_by(KbVersion.id.desc())).first()
        if row is None:
            row = s.exec(select(KbVersion).order_by(KbVersion.id.desc())).first()
        return to_info(row) if row is not None else None


def this_builder() -> dict:
    """Who builds a version: this host and process."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def builder_gone(meta: dict, here: dict) -> bool:
    """True when the process that was building a version has ended (see the module docstring)."""
    builder = (meta or {}).get("builder")
    if not isinstance(builder, dict):
        return True  # recorded before builders were: the old single-workstation rule
    if builder.get("host") != here["host"]:
        return False  # another workstation's run: only that workstation can tell it died
    pid = int(builder.get("pid") or 0)
    # this very process: an earlier run of it that ended without finishing (one ingestion at a time per process:
    # the window's background lane has one thread)
    return pid == here["pid"] or not _pid_alive(pid)


def start_version(db: Database, **fields) -> int:
    """Record a new ``building`` version (``meta["builder"]``: this process); versions left ``building`` by a
    process that ended (:func:`builder_gone`) become ``failed``."""
    here = this_builder()
    fields["meta"] = {**(fields.get("meta") or {}), "builder": here}
    with db.session() as s:
        for stale in s.exec(select(KbVersion).where(KbVersion.status == KbVersionStatus.building.value)).all():
            if not builder_gone(stale.meta, here):
                continue
            stale.status = KbVersionStatus.failed.value
            stale.meta = {**(stale.meta or {}), "error": "interrupted (process ended before the run finished)"}
            s.add(stale)
        row = KbVersion(status=KbVersionStatus.building.value, **fields)
        s.add(row)
        s.flush()
        return int(row.id)


def finish_version(
    db: Database, version_id: int, status: KbVersionStatus | str, *, chunk_count: int,
    audit: tuple[str, dict] | None = None, **meta
) -> KbVersionInfo:
    """Record the end of a run. ``audit`` = (action, details): its event is written in this same transaction,
    so a version is never finished without its audit event, nor an event written for a version left unfinished."""
    with db.session() as s:
        row = s.get(KbVersion, version_id)
        row.status = KbVersionStatus(status).value
        row.doc_count = int(s.exec(select(func.count()).select_from(KbDocument)).one())
        row.chunk_count = int(chunk_count)
        row.finished_at = utcnow()
        row.meta = {**(row.meta or {}), **meta}
        s.add(row)
        s.flush()
        if audit is not None:
            action, details = audit
            db.audit(action, actor="system", entity="kb_version", entity_id=int(row.id), **details, session=s)
        return to_info(row)


def document_fingerprints(db: Database) -> dict[str, tuple[str, str]]:
    """``doc_key -> (sha256, source_path)`` of every fully ingested document."""
    with db.session() as s:
        return {d.doc_key: (d.sha256, d.source_path) for d in s.exec(select(KbDocument)).all()}


def delete_documents(db: Database, doc_keys: list[str]) -> None:
    with db.session() as s:
        for start in range(0, len(doc_keys), 500):
            part = doc_keys[start:start + 500]
            for row in s.exec(select(KbDocument).where(KbDocument.doc_key.in_(part))).all():
                s.delete(row)
