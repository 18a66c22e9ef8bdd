"""Knowledge-base versions in the clinic database (issue 25.4): an ingest records its version and documents in
PostgreSQL, and a second workstation (another process, its own engine) reads the same version; several
workstations building versions at once never mark each other's run as failed.

``test_a_build_in_progress_elsewhere_is_not_marked_failed`` fails on cd183f4: every new build marked every
``building`` version failed ("interrupted"), so a second workstation's ingest broke the first one's record."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from medstation.jobs import JobContext
from medstation.rag import versions
from medstation.store.tables import AuditEvent, KbVersion

ROOT = Path(__file__).resolve().parents[2]
OTHER_WORKSTATION = r"""
import json, sys
from medstation.store.database import Database
from medstation.rag import versions
location, action = sys.argv[1], sys.argv[2]
db = Database(location, anchor_root=sys.argv[3]) if location.startswith("postgresql") else Database(location)
if action == "build":
    vid = versions.start_version(db, collection="kb", embedding_model="m", chunk_chars=100, chunk_overlap=10)
    versions.finish_version(db, vid, "complete", chunk_count=0)
info = versions.current_version(db)
from sqlmodel import func, select
from medstation.store.tables import KbDocument
with db.session() as s:
    docs = sorted(d.doc_key for d in s.exec(select(KbDocument)))
print(json.dumps({"engine": db.engine.dialect.name, "id": info.id, "status": str(info.status.value),
                  "doc_count": info.doc_count, "chunk_count": info.chunk_count,
                  "embedding_sha256": info.embedding_sha256, "docs": docs}))
db.close()
"""


def _other_workstation(location, action: str, anchor_root) -> dict:
    proc = subprocess.run([sys.executable, "-c", OTHER_WORKSTATION, str(location), action, str(anchor_root)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_ingest_records_its_version_on_the_server_and_another_workstation_sees_it(settings, pg_url, tmp_path):
    from medstation.store.database import Database
    from tests.domain.test_rag_sources import make_service, write_corpus

    db = Database(pg_url, anchor_root=settings.home)
    kb = make_service(settings, db)
    try:
        info = kb.ingest_job(JobContext(), write_corpus(tmp_path / "corpus"))
        assert info.status == "complete" and info.doc_count == 7
        seen = _other_workstation(pg_url, "read", settings.home)
        assert seen["engine"] == "postgresql"
        assert (seen["id"], seen["status"], seen["doc_count"], seen["chunk_count"], seen["embedding_sha256"]) == \
            (info.id, "complete", 7, info.chunk_count, info.embedding_sha256)
        assert len(seen["docs"]) == 7 and "CDC/0000101" in seen["docs"]
        with db.session() as s:
            row = s.get(KbVersion, info.id)
            event = s.exec(select(AuditEvent).where(AuditEvent.action == "kb.ingest")).one()
        assert row.meta["builder"] == {"host": socket.gethostname(), "pid": os.getpid()}
        assert event.entity_id == str(info.id) and row.finished_at is not None
        assert not settings.db_path.exists()  # nothing went to a local SQLite file
    finally:
        kb.close()
        db.close()



@pytest.mark.both_engines
def test_a_build_in_progress_elsewhere_is_not_marked_failed(db, store_location, settings):
    mine = versions.start_version(db, collection="kb", embedding_model="m", chunk_chars=100, chunk_overlap=10)
    theirs = _other_workstation(store_location, "build", settings.home)  # another workstation ingests meanwhile
    assert theirs["id"] == mine + 1 and theirs["status"] == "complete"
    with db.session() as s:
        row = s.get(KbVersion, mine)
        assert row.status == "building" and "error" not in row.meta  # still ours, still running
    done = versions.finish_version(db, mine, "complete", chunk_count=0)
    assert done.status == "complete"
    with db.session() as s:
        assert "error" not in s.get(KbVersion, mine).meta


@pytest.mark.both_engines
def test_only_builds_whose_process_ended_are_marked_failed(db, settings):
    here = socket.gethostname()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with db.session() as s:
        rows = {name: KbVersion(status="building", meta=meta) for name, meta in (
            ("crashed here", {"builder": {"host": here, "pid": ended.pid}}),
            ("before builders were recorded", {}),
            ("running on another workstation", {"builder": {"host": "ws-other-" + here, "pid": 1}}),
            ("left by an earlier run of this process", {"builder": {"host": here, "pid": os.getpid()}}),
            ("running in another live process here", {"builder": {"host": here, "pid": os.getppid()}}))}
        for row in rows.values():
            s.add(row)
        s.flush()
        ids = {name: int(row.id) for name, row in rows.items()}
    versions.start_version(db, collection="kb", embedding_model="m", chunk_chars=100, chunk_overlap=10)
    with db.session() as s:
        status = {name: s.get(KbVersion, i).status for name, i in ids.items()}
    assert status == {"crashed here": "failed", "before builders were recorded": "failed",
                      "running on another workstation": "building", "left by an earlier run of this process": "failed",
                      "running in another live process here": "building"}
