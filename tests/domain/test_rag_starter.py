"""The shipped starter knowledge base: present, attributed, and loaded into an empty knowledge base only."""

from __future__ import annotations

import json

import pytest

from medstation.jobs import JobContext
from medstation.rag import starter
from medstation.access.roles import UserSession
from medstation.rag.service import KnowledgeBaseService


def test_the_starter_file_ships_with_medquad_rows_and_licence():
    path = starter.starter_path()
    assert path is not None and path.stat().st_size < 4_000_000
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 1540 and {r["source"] for r in rows} == {"MPlusHealthTopics", "NHLBI"}
    assert all(r["answer"].strip() and r["doc_id"] for r in rows)
    assert "CC BY 4.0" in starter.ATTRIBUTION and "MedQuAD" in (path.parent / "README.md").read_text()


@pytest.mark.slow
def test_an_empty_knowledge_base_gets_the_starter_set(settings, db, tmp_path, monkeypatch):
    small = tmp_path / "starter_kb" / "medquad_starter.jsonl"
    small.parent.mkdir()
    small.write_text("".join(starter.starter_path().read_text().splitlines(keepends=True)[:3]))
    monkeypatch.setattr(starter, "resources_dir", lambda: tmp_path)
    kb = KnowledgeBaseService(settings, db, session=UserSession.from_os_user())
    assert not starter.needs_starter(kb)  # MEDSTATION_KB_STARTER=false in the tests
    settings.kb_starter = True
    assert starter.needs_starter(kb)
    info = starter.ingest_starter_job(JobContext(), kb)
    assert info.doc_count == 3 and not starter.needs_starter(kb)
    kb.close()
