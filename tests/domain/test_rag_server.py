"""Shared knowledge base: ``kb_mode=http`` against a real ``chroma run`` server started by the test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medstation.jobs import JobContext
from medstation.rag.types import KnowledgeBaseError
from tests.domain.test_rag_sources import make_service, write_corpus
from tests.process_support import stop_process

CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    if not CHROMA.exists():
        pytest.skip(f"the chroma server binary is not installed at {CHROMA}")
    port = free_port()
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, "chroma server exited during start-up"
                assert time.monotonic() < deadline, "chroma server did not start within 60 s"
                time.sleep(0.2)
        yield port
    finally:
        stop_process(proc)


def test_http_mode_ingests_and_searches_through_the_server(settings, db, tmp_path, chroma_server):
    settings.kb_mode = "http"
    settings.kb_port = chroma_server
    kb = make_service(settings, db)
    try:
        assert kb.is_empty() and "chroma server" in kb.store().description
        info = kb.ingest_job(JobContext(), write_corpus(tmp_path / "corpus"))
        assert info.status == "complete" and info.chunk_count == kb.store().count() > 0
        assert not (settings.kb_dir / "chroma").exists(), "http mode must not write a local chroma store"
        hit = kb.search("urate crystals in the big toe", k=1, mode="hybrid")[0]
        assert hit.title == "Gout" and {"dense_rank", "bm25_rank"} <= set(hit.scores)
    finally:
        kb.close()

    # A second workstation (own home, empty BM25 cache) sees the same shared chunks.
    other = make_service(settings.model_copy(update={"home": tmp_path / "other_home"}), db)
    try:
        assert other.store().count() == info.chunk_count
        assert other.search("Borrelia tick bite", k=1, mode="bm25")[0].source == "CDC"
    finally:
        other.close()


def test_http_mode_without_a_server_is_a_clear_error(settings, db):
    settings.kb_mode = "http"
    settings.kb_port = free_port()
    kb = make_service(settings, db)
    with pytest.raises(KnowledgeBaseError, match="cannot reach the shared knowledge-base server"):
        kb.is_empty()
