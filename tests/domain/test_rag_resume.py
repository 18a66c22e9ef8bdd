"""Crash safety: an ingestion killed with SIGKILL mid-document resumes without duplicates or losses."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.rag.ingest import plan_chunks
from medstation.rag.sources import list_source_files, read_file
from medstation.store.database import Database
from tests.domain.test_rag_sources import make_service

ROOT = Path(__file__).resolve().parents[2]

# The child ingests with 2-chunk batches and SIGKILLs itself right after the third batch is
# stored but before its document is committed: the worst moment, chunks without their row.
CHILD = r"""
import os, signal, sys
from pathlib import Path
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.rag import ingest
from medstation.access.roles import UserSession
from medstation.rag.service import KnowledgeBaseService
from medstation.store.database import Database

ingest.EMBED_BATCH = 2
settings = Settings()
kb = KnowledgeBaseService(settings, Database(settings.db_path), session=UserSession.from_os_user())
store = kb.store()
real_upsert = store.upsert
calls = []

def upsert_then_die(*args, **kwargs):
    real_upsert(*args, **kwargs)
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

store.upsert = upsert_then_die
kb.ingest_job(JobContext(), Path(sys.argv[1]))
print("finished without being killed")
"""


def write_three_chunk_docs(folder: Path, n: int) -> Path:
    """``n`` documents of three ~100-character sentences: three chunks each at 120/20 chunking."""
    folder.mkdir(parents=True)
    for i in range(n):
        sentences = [f"Document {i} sentence {j} describes condition number {i}{j} with enough words to fill it." for j in range(3)]
        (folder / f"doc{i:02d}.txt").write_text(" ".join(sentences))
    return folder


def test_sigkill_mid_ingestion_then_rerun_has_every_chunk_once(tmp_path, medstation_home, monkeypatch):
    monkeypatch.setenv("MEDSTATION_KB_CHUNK_CHARS", "120")
    monkeypatch.setenv("MEDSTATION_KB_CHUNK_OVERLAP", "20")
    corpus = write_three_chunk_docs(tmp_path / "corpus", 6)
    settings = Settings()
    settings.ensure_dirs()
    docs = [d for f in list_source_files(corpus) for d in read_file(f)]
    planned = {d.doc_key: len(plan_chunks(d, 120, 20)) for d in docs}
    assert set(planned.values()) == {3}

    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus)], cwd=ROOT, env=os.environ.copy(),
        capture_output=True, text=True, timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    with sqlite3.connect(settings.db_path) as con:
        committed = {row[0] for row in con.execute("SELECT doc_key FROM kb_document")}
        statuses = [row[0] for row in con.execute("SELECT status FROM kb_version")]
    assert len(committed) == 1 and statuses == ["building"]  # batches 1-2 finished doc 1 only

    db = Database(settings.db_path)
    kb = make_service(settings, db)
    try:
        stored = [m["doc_key"] for _, _, metas in kb.store().iter_all() for m in metas]
        assert len(stored) == 6 and len(set(stored) - committed) == 1, "the kill left a half-written document"

        info = kb.ingest_job(JobContext(), corpus)
        assert info.status == "complete" and info.skipped_docs == 1 and info.added_docs == 5
        ids = [cid for page, _, _ in kb.store().iter_all() for cid in page]
        assert len(ids) == len(set(ids)) == sum(planned.values()) == info.chunk_count
        stored = [m["doc_key"] for _, _, metas in kb.store().iter_all() for m in metas]
        assert sorted(stored) == sorted(k for k, n in planned.items() for _ in range(n))
        versions = [(v.status, v.meta.get("error", "")) for v in _versions(db)]
        assert versions[0][0] == "failed" and "interrupted" in versions[0][1] and versions[1][0] == "complete"
        assert kb.search("condition number 42", k=1, mode="bm25")[0].doc_id.endswith("doc04.txt")
    finally:
        kb.close()
        db.close()


def _versions(db):
    from sqlmodel import select

    from medstation.store.tables import KbVersion

    with db.session() as s:
        return s.exec(select(KbVersion).order_by(KbVersion.id)).all()
