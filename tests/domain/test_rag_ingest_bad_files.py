"""Ingesting a clinic's real folders: binary files named .txt, Windows-1252 text, a broken PDF, Word files
(breakchat). The run says what it could not read or skipped, and stores no garbage."""

from __future__ import annotations

import pytest

from medstation.jobs import JobContext
from tests.domain.test_rag_sources import make_service

# a fixed "binary" payload (bytes of every value, as in an image or a zip renamed .txt)
BINARY = bytes(range(256)) * 12


@pytest.fixture
def kb(settings, db):
    service = make_service(settings, db)
    yield service
    service.close()


def _stored(kb) -> dict[str, str]:
    return {m["title"]: text for _, texts, metas in kb.store().iter_all() for text, m in zip(texts, metas)}


def test_a_mixed_folder_stores_no_garbage_and_says_what_it_skipped(kb, tmp_path):
    """7d7286b: a binary file named .txt was stored as chunks of U+FFFD mojibake (retrievable, quotable), a
    Windows-1252 note lost its "°" and "ü", and the result line said only "complete: 3 documents": nothing about
    the broken PDF or the Word file it had skipped (fails on 7d7286b)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "gout.md").write_text("# Gout\n\nGout is caused by urate crystals in the big toe joint.\n")
    (folder / "fieber.txt").write_bytes("Fieber über 38,5 °C: Paracetamol geben.".encode("cp1252"))
    (folder / "scan.txt").write_bytes(BINARY)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 cut off in the middle of the download")
    (folder / "letter.docx").write_bytes(b"PK\x03\x04 a Word file")
    info = kb.ingest_job(JobContext(), folder)
    stored = _stored(kb)
    assert set(stored) == {"Gout", "fieber"}
    assert "über 38,5 °C" in stored["fieber"] and not any("\ufffd" in text for text in stored.values())
    said = info.describe()
    assert "could not be read" in said and "broken.pdf" in said and "scan.txt" in said
    assert "letter.docx" in said and "not a supported type" in said
    assert info.unreadable and info.unsupported == ("letter.docx",)


def test_a_folder_with_no_readable_document_says_so(kb, tmp_path):
    folder = tmp_path / "word_only"
    folder.mkdir()
    (folder / "a.docx").write_bytes(b"PK\x03\x04")
    (folder / "b.xlsx").write_bytes(b"PK\x03\x04")
    said = kb.ingest_job(JobContext(), folder).describe()
    assert "no document found" in said.lower() and "a.docx" in said and "b.xlsx" in said


def test_a_file_that_cannot_be_read_this_time_keeps_its_ingested_version(kb, tmp_path, monkeypatch):
    """breakchat: re-ingesting a folder while one of its files could not be read (open and locked in another
    program, a network share gone for a moment) treated that file as deleted and removed its document from the
    knowledge base (fails on 7d7286b). It now keeps the version already ingested, and says so."""
    folder = tmp_path / "guidelines"
    folder.mkdir()
    (folder / "gout.md").write_text("# Gout\n\nGout is caused by urate crystals in the big toe joint.\n")
    (folder / "asthma.md").write_text("# Asthma\n\nAsthma narrows the airways and causes wheezing.\n")
    kb.ingest_job(JobContext(), folder)
    from medstation.rag import ingest, sources

    def locked(path):
        if path.name == "asthma.md":
            raise PermissionError(13, "The process cannot access the file because it is being used by another "
                                      "process")
        return sources.read_file(path)

    monkeypatch.setattr(ingest, "read_file", locked)
    info = kb.ingest_job(JobContext(), folder)
    assert set(_stored(kb)) == {"Gout", "Asthma"} and info.doc_count == 2 and info.removed_docs == 0
    assert "asthma.md" in info.describe() and "kept as ingested before" in info.describe()


def test_stopping_works_while_a_huge_folder_is_still_being_listed(kb, tmp_path):
    """breakchat: the file listing of the folder (a whole drive picked by mistake walks for minutes) never checked
    for cancellation, so "Stop ingesting" waited for the walk to end (fails on 7d7286b)."""
    from medstation.jobs import Cancelled

    folder = tmp_path / "drive"
    folder.mkdir()
    for i in range(600):
        (folder / f"photo_{i}.jpg").write_bytes(b"\xff\xd8")
    ctx = JobContext()
    checks = []

    def check():  # the user presses Stop once the walk has begun
        checks.append(1)
        if len(checks) > 1:
            ctx.cancel()
        JobContext.check(ctx)

    ctx.check = check
    with pytest.raises(Cancelled):
        kb.ingest_job(ctx, folder)


def test_answers_name_the_version_that_holds_a_stopped_runs_documents(kb, tmp_path, monkeypatch):
    """breakchat: after an ingestion was stopped halfway, its finished documents stay searchable, but the version
    an answer records (and shows) was still the previous complete one, which never held them (fails on
    7d7286b). The current version is the newest finished run, whatever its ending."""
    from medstation.jobs import Cancelled
    from medstation.rag import ingest
    from tests.domain.test_rag_sources import write_corpus

    first = tmp_path / "first"
    first.mkdir()
    (first / "gout.md").write_text("# Gout\n\nGout is caused by urate crystals in the big toe joint.\n")
    complete = kb.ingest_job(JobContext(), first)
    monkeypatch.setattr(ingest, "EMBED_BATCH", 2)

    def on_progress(_fraction, message):
        if message.startswith("embedded") and not message.startswith("embedded 0/"):
            ctx.cancel()

    ctx = JobContext(on_progress=on_progress)
    with pytest.raises(Cancelled):
        kb.ingest_job(ctx, write_corpus(tmp_path / "second"))
    current = kb.current_version()
    assert current.id == complete.id + 1 and current.status == "cancelled" and current.doc_count > complete.doc_count
