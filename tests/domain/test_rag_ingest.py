"""Ingestion and search on a tiny real corpus: right document found, incremental, cancel, modes, empty base."""

from __future__ import annotations

import pytest

from medstation.jobs import Cancelled, JobContext
from medstation.rag.ingest import plan_chunks
from medstation.rag.sources import list_source_files, read_file
from medstation.rag.types import KnowledgeBaseError
from tests.domain.test_rag_sources import make_service, write_corpus


def expected_chunks(root, settings) -> dict[str, int]:
    docs = [d for f in list_source_files(root) for d in read_file(f)]
    return {d.doc_key: len(plan_chunks(d, settings.kb_chunk_chars, settings.kb_chunk_overlap)) for d in docs}


def stored_doc_keys(kb) -> list[str]:
    return [m["doc_key"] for _, _, metas in kb.store().iter_all() for m in metas]


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def kb(settings, db):
    service = make_service(settings, db)
    yield service
    service.close()


def top_doc(kb, query, mode):
    hits = kb.search(query, k=3, mode=mode)
    assert hits, f"{mode} found nothing for {query!r}"
    return hits[0]


def test_empty_knowledge_base_says_so(kb):
    assert kb.is_empty() and kb.current_version() is None
    assert kb.search("asthma", k=5) == []
    assert "empty" in kb.empty_message() and "kb ingest" in kb.empty_message()
    with pytest.raises(KnowledgeBaseError, match="unknown search mode"):
        kb.search("asthma", mode="fuzzy")


def test_ingest_then_each_mode_finds_the_right_document(kb, corpus, settings):
    progress = []
    info = kb.ingest_job(JobContext(on_progress=lambda f, m: progress.append(f)), corpus)
    expected = expected_chunks(corpus, settings)
    assert info.status == "complete" and info.doc_count == len(expected) == 7
    assert info.chunk_count == sum(expected.values()) == kb.store().count()
    assert info.embedding_sha256 and len(info.embedding_sha256) == 64 and "MiniLM" in info.embedding_model
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert kb.current_version() == info

    for mode in ("hybrid", "dense", "bm25"):
        gout = top_doc(kb, "urate crystals deposited in the big toe joint", mode)
        assert gout.doc_id.endswith("gout.html") and gout.title == "Gout" and gout.rank == 1
        lyme = top_doc(kb, "Borrelia burgdorferi tick bite", mode)
        assert (lyme.source, lyme.doc_id, lyme.doc_key) == ("CDC", "0000101", "CDC/0000101")
        assert lyme.url == "https://cdc.example/lyme" and lyme.section == "0000101-1"
        pdf = top_doc(kb, "arterial blood pressure above 140 over 90 mmHg", mode)
        assert pdf.source == "pdf" and pdf.url.endswith("hypertension.pdf")

    hybrid = kb.search("urate crystals deposited in the big toe joint", k=3, mode="hybrid")[0]
    assert {"dense_rank", "bm25_rank"} <= set(hybrid.scores)
    assert hybrid.score == pytest.approx(1 / 61 + 1 / 61)  # first for both retrievers under RRF(k=60)


def test_modes_differ_where_words_do_not_overlap(kb, corpus):
    kb.ingest_job(JobContext(), corpus)
    paraphrase = "sugar sickness controlled with tablets"  # no word shared with the diabetes note
    assert kb.search(paraphrase, k=3, mode="bm25") == []
    dense = kb.search(paraphrase, k=3, mode="dense")
    assert len(dense) == 3 and all(set(p.scores) == {"dense_rank", "dense_sim"} for p in dense)
    hybrid = kb.search(paraphrase, k=3, mode="hybrid")
    assert [p.chunk_id for p in hybrid] == [p.chunk_id for p in dense]
    keyword = kb.search("HbA1c metformin", k=2, mode="bm25")
    assert keyword[0].doc_id.endswith("diabetes.txt") and keyword[0].score > 0
    assert all(set(p.scores) == {"bm25_rank", "bm25"} for p in keyword)


def test_reingest_skips_unchanged_and_replaces_changed_and_removed(kb, corpus, settings):
    first = kb.ingest_job(JobContext(), corpus)
    ids_before = {cid for ids, _, _ in kb.store().iter_all() for cid in ids}
    again = kb.ingest_job(JobContext(), corpus)
    assert (again.added_docs, again.skipped_docs, again.removed_docs) == (0, 7, 0)
    assert {cid for ids, _, _ in kb.store().iter_all() for cid in ids} == ids_before
    assert again.id == first.id + 1

    (corpus / "asthma.md").write_text("# Asthma\n\nMontelukast is a leukotriene receptor antagonist for asthma.\n")
    (corpus / "gout.html").unlink()
    changed = kb.ingest_job(JobContext(), corpus)
    assert (changed.added_docs, changed.removed_docs, changed.skipped_docs) == (1, 1, 5)
    expected = expected_chunks(corpus, settings)
    assert changed.doc_count == 6 and changed.chunk_count == sum(expected.values())
    keys = stored_doc_keys(kb)
    assert not any(k.endswith("gout.html") for k in keys)
    assert sorted(set(keys)) == sorted(expected)
    assert kb.search("montelukast leukotriene", k=1, mode="bm25")[0].doc_id.endswith("asthma.md")
    assert all("salbutamol" not in p.text for p in kb.search("salbutamol bronchospasm", k=5, mode="hybrid"))

    # Ingesting one file of the folder leaves the folder's other documents alone.
    single = kb.ingest_job(JobContext(), corpus / "notes" / "diabetes.txt")
    assert (single.removed_docs, single.skipped_docs, single.doc_count) == (0, 1, 6)


def test_cancel_keeps_finished_documents_and_the_next_run_completes(kb, corpus, settings, monkeypatch):
    from medstation.rag import ingest

    monkeypatch.setattr(ingest, "EMBED_BATCH", 2)

    def on_progress(fraction, message):
        if message.startswith("embedded") and not message.startswith("embedded 0/"):
            ctx.cancel()

    ctx = JobContext(on_progress=on_progress)
    with pytest.raises(Cancelled):
        kb.ingest_job(ctx, corpus)
    cancelled = kb.current_version()
    assert cancelled.status == "cancelled" and 0 < cancelled.doc_count < 7

    done = kb.ingest_job(JobContext(), corpus)
    expected = expected_chunks(corpus, settings)
    assert done.status == "complete" and done.doc_count == 7
    assert done.skipped_docs == cancelled.doc_count and done.added_docs == 7 - cancelled.doc_count
    assert kb.store().count() == sum(expected.values())
    assert sorted(stored_doc_keys(kb)) == sorted(k for k, n in expected.items() for _ in range(n))


def test_missing_path_is_a_clear_error(kb, tmp_path):
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        kb.ingest_job(JobContext(), tmp_path / "nowhere")


def test_a_second_service_sees_documents_another_one_ingested(kb, settings, db, corpus):
    """The GUI's service keeps working while `medstation kb ingest` adds documents in another process."""
    reader = make_service(settings, db)
    try:
        kb.ingest_job(JobContext(), corpus / "asthma.md")
        assert reader.search("salbutamol bronchospasm", k=1, mode="bm25")[0].title == "Asthma"
        kb.ingest_job(JobContext(), corpus / "gout.html")
        assert reader.search("urate crystals", k=1, mode="bm25")[0].title == "Gout"
    finally:
        reader.close()


def _kb_audit(db) -> tuple[list[str], list[tuple[str, str]]]:
    """(statuses of kb_version rows, (action, entity_id) of kb.* audit events)."""
    from sqlalchemy import text

    with db.session() as s:
        statuses = [r[0] for r in s.exec(text("SELECT status FROM kb_version ORDER BY id")).all()]
        events = [(r[0], r[1]) for r in s.exec(text(
            "SELECT action, entity_id FROM audit_event WHERE action LIKE 'kb.%' ORDER BY id")).all()]
    return statuses, events


def test_finished_version_and_its_audit_event_commit_together(kb, corpus, db, monkeypatch):
    """A failure while the ingest's audit event is written leaves neither a complete version nor the event
    (fails on ba9a5bd: the version was committed 'complete' first, the event appended in a second step)."""
    from medstation.store.database import Database

    real_audit = Database.audit

    def audit_fails(self, action, **kwargs):
        if action == "kb.ingest":
            raise OSError("disk full while writing the audit event")
        return real_audit(self, action, **kwargs)

    monkeypatch.setattr(Database, "audit", audit_fails)
    with pytest.raises(OSError, match="disk full"):
        kb.ingest_job(JobContext(), corpus)
    monkeypatch.undo()
    statuses, events = _kb_audit(db)
    assert "complete" not in statuses and events == []

    info = kb.ingest_job(JobContext(), corpus)  # the next run finishes, with exactly one event for its version
    statuses, events = _kb_audit(db)
    assert info.status == "complete" and statuses == ["failed", "complete"]
    assert events == [("kb.ingest", str(info.id))]
