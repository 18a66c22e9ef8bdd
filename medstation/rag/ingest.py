"""Ingestion job: parse, chunk, embed in batches, store; incremental, resumable and cancellable.

Crash safety rests on one ordering rule: a document's ``kb_document`` row (with
its fingerprint) is committed only *after* all its chunks are in the vector
store. So after a crash or a cancel:

* documents with a row and a matching fingerprint are finished and skipped;
* chunks whose document has no row are orphans of a half-written document and
  are deleted before the run continues (chunk ids are deterministic, so a redo
  would overwrite them anyway; deleting also drops chunks a shorter redo lacks);
* a changed document first loses its row, then its chunks, then is redone.

The fingerprint covers the document's content, the chunk parameters and the
embedding weights, so changing any of them re-embeds exactly what it affects.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from medstation.jobs import Cancelled, JobContext
from medstation.foreground import FOREGROUND
from medstation.rag import versions
from medstation.rag.chunking import chunk_spans
from medstation.rag.sources import SourceDocument, read_file, scan_files
from medstation.rag.types import KbVersionInfo, KbVersionStatus, KnowledgeBaseError
from medstation.store.tables import KbDocument

log = logging.getLogger(__name__)

EMBED_BATCH = 128  # chunks per embed + store + commit step; ctx.check() runs between steps
MAX_NAMED_FILES = 50  # skipped files named in a version's record (a folder of 10,000 images is counted, not listed)


@dataclass
class PendingChunk:
    chunk_id: str
    text: str
    embed_text: str
    meta: dict


@dataclass
class PendingDocument:
    doc: SourceDocument
    fingerprint: str
    chunks: list[PendingChunk] = field(default_factory=list)


def fingerprint(doc: SourceDocument, chunk_chars: int, chunk_overlap: int, embedder_identity: str) -> str:
    return hashlib.sha256(f"{doc.sha256}|{chunk_chars}|{chunk_overlap}|{embedder_identity}".encode()).hexdigest()


def plan_chunks(doc: SourceDocument, chunk_chars: int, chunk_overlap: int) -> list[PendingChunk]:
    """Chunks of every section with deterministic ids ``<doc_key>#<section>#<n>``."""
    out = []
    for section in doc.sections:
        title = section.meta.get("focus") or doc.title
        for n, (s, e) in enumerate(chunk_spans(section.text, chunk_chars, chunk_overlap)):
            text = section.text[s:e]
            meta = {
                "doc_key": doc.doc_key, "doc_id": doc.doc_id, "title": title, "url": doc.url,
                "source": doc.source, "section": section.key, "chunk_index": n, "char_start": s, "char_end": e,
            }
            meta.update({k: v for k, v in section.meta.items() if k in ("qid", "qtype") and v})
            out.append(PendingChunk(f"{doc.doc_key}#{section.key}#{n}", text, f"{title}\n{text}", meta))
    return out


def _in_scope(source_path: str, root: Path) -> bool:
    """Whether an ingested document came from ``root`` (the file itself, or anything under the folder)."""
    root_s = root.as_posix()
    return source_path == root_s or source_path.startswith(root_s.rstrip("/") + "/")


def ingest_path(ctx: JobContext, service, path: Path) -> KbVersionInfo:
    """Job: bring the knowledge base in line with ``path`` (a file or a folder).

    Returns the recorded :class:`KbVersionInfo`. Raises ``Cancelled`` after recording
    a ``cancelled`` version (finished documents stay ingested).
    """
    settings, db = service.settings, service.db
    root = path.expanduser().resolve()
    if not root.exists():
        raise KnowledgeBaseError(f"nothing to ingest: {root} does not exist")
    chunk_chars, chunk_overlap = settings.kb_chunk_chars, settings.kb_chunk_overlap
    ctx.report(0.0, "opening the knowledge base")
    store, embedder = service.store(), service.embedder()
    version_id = versions.start_version(
        db, collection=store.description, embedding_model=embedder.name, embedding_sha256=embedder.sha256,
        chunk_chars=chunk_chars, chunk_overlap=chunk_overlap, meta={"path": root.as_posix()},
    )
    stats = {"added_docs": 0, "removed_docs": 0, "skipped_docs": 0, "chunks_written": 0}
    try:
        ctx.report(0.01, f"reading {root.name}")
        docs: list[SourceDocument] = []
        unread: set[str] = set()  # files that failed to read: what they held before stays (not taken as deleted)
        files, skipped_types = scan_files(root, ctx.check)
        for file in files:
            ctx.check()
            try:
                docs.extend(read_file(file))
            except Exception as exc:  # one unreadable file must not stop a folder; say which one
                log.warning("skipping %s: %s", file, exc)
                stats.setdefault("unreadable", []).append(f"{_shown_name(file, root)}: {exc}")
                unread.add(file.resolve().as_posix())
        if skipped_types:  # the user is told which files were not read at all (a Word file is not an error)
            stats["unsupported_count"] = len(skipped_types)
            stats["unsupported"] = [_shown_name(f, root) for f in skipped_types[:MAX_NAMED_FILES]]
        stats["found_docs"] = len(docs)
        known = versions.document_fingerprints(db)
        seen = {d.doc_key for d in docs}
        _drop_orphan_chunks(store, seen - set(known))
        removed = [k for k, (_, src) in known.items() if k not in seen and _in_scope(src, root) and src not in unread]
        pending: list[PendingDocument] = []
        for doc in docs:
            fp = fingerprint(doc, chunk_chars, chunk_overlap, embedder.identity)
            if known.get(doc.doc_key, ("",))[0] == fp:
                stats["skipped_docs"] += 1
                continue
            if doc.doc_key in known:
                removed.append(doc.doc_key)  # changed: old row and chunks go first
            pending.append(PendingDocument(doc, fp, plan_chunks(doc, chunk_chars, chunk_overlap)))
        if removed:
            versions.delete_documents(db, removed)
            for key in removed:
                store.delete_document(key)
        stats["removed_docs"] = len([k for k in removed if k not in seen])
        _write_documents(ctx, db, store, embedder, pending, stats)
        ctx.report(0.97, "rebuilding the keyword index")
        service.rebuild_keyword_index(ctx)
    except (Cancelled, KeyboardInterrupt):
        versions.finish_version(db, version_id, KbVersionStatus.cancelled, chunk_count=store.count(), **stats)
        raise
    except Exception as exc:
        versions.finish_version(db, version_id, KbVersionStatus.failed, chunk_count=store.count(), error=str(exc), **stats)
        raise
    info = versions.finish_version(db, version_id, KbVersionStatus.complete, chunk_count=store.count(),
                                   audit=("kb.ingest", {"path": root.as_posix(), **stats}), **stats)
    ctx.report(1.0, info.describe())
    return info


def _shown_name(file: Path, root: Path) -> str:
    """``file`` as the user knows it: relative to the ingested folder (its name when ``root`` is the file)."""
    return file.name if file == root else file.relative_to(root).as_posix()


def _drop_orphan_chunks(store, uncommitted: set[str]) -> None:
    """Delete stored chunks of documents about to be ingested that never committed (a crash or cancel
    mid-document). Limited to this run's documents: on a shared chroma server, chunks of documents
    another workstation ingested have no row in our database and must stay."""
    if not uncommitted:
        return
    orphans = []
    for ids, _, metas in store.iter_all():
        orphans.extend(cid for cid, m in zip(ids, metas) if m.get("doc_key") in uncommitted)
    for s in range(0, len(orphans), 2000):
        store.collection.delete(ids=orphans[s:s + 2000])
    if orphans:
        log.info("removed %d chunks of unfinished documents", len(orphans))


def _write_documents(ctx, db, store, embedder, pending: list[PendingDocument], stats: dict) -> None:
    """Embed and store chunks in batches; commit each document's row once its last chunk is stored."""
    total = sum(len(p.chunks) for p in pending) or 1
    started = time.perf_counter()
    batch: list[PendingChunk] = []
    completed: list[PendingDocument] = []
    done = 0

    def flush() -> None:
        nonlocal done
        ctx.check()
        FOREGROUND.wait_while_busy(ctx)  # an answer is streaming: let it have the CPU first
        if batch:
            vectors = embedder.encode([c.embed_text for c in batch])
            store.upsert([c.chunk_id for c in batch], vectors, [c.text for c in batch], [c.meta for c in batch])
        with db.session() as s:
            for p in completed:
                d = p.doc
                s.add(KbDocument(doc_key=d.doc_key, doc_id=d.doc_id, source=d.source, source_path=d.source_path,
                                 title=d.title, url=d.url, sha256=p.fingerprint, chunk_count=len(p.chunks)))
        done += len(batch)
        stats["chunks_written"] += len(batch)
        stats["embed_seconds"] = round(time.perf_counter() - started, 2)
        stats["chunks_per_s"] = round(done / max(1e-9, stats["embed_seconds"]), 2)
        stats["added_docs"] += len(completed)
        batch.clear()
        completed.clear()
        ctx.report(0.02 + 0.95 * done / total, f"embedded {done}/{total} chunks")

    for p in pending:
        for chunk in p.chunks:
            batch.append(chunk)
            if len(batch) >= EMBED_BATCH:
                flush()
        completed.append(p)
    flush()
