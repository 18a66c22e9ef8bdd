"""The Notes tab's domain side without Qt: session views, sign-off preview, regenerated sections, export, and
the insert/restore span operations (moved text, undo) replaying exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from sqlmodel import select

from medstation.access.roles import Actor, PermissionDenied, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.service import NotesService
from medstation.notes.spans import Span, SpanKind, TrackedText, replay
from medstation.notes.workspace import load_session, prepare_signing
from medstation.store.tables import AuditEvent

SESSION = """Therapist: How was the week?
Client: I have been feeling anxious at work and I have trouble sleeping most nights since the move.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""


@pytest.fixture
def service(settings, db):
    return NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))


@pytest.fixture
def drafted(service):
    client = service.create_client("C-001")
    session = service.create_session(client.id, "2026-11-30")
    service.import_transcript(session.id, SESSION, "s.txt")
    return session, service.draft(JobContext(), session.id, "soap")


def _audit(db, action):
    with db.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_session_view_lists_every_note_and_shows_the_newest(service, drafted):
    session, first = drafted
    service.sign(first.id, service.note(first.id).text)
    second = service.draft(JobContext(), session.id, "soap")
    view = load_session(JobContext(), service, session.id)
    assert [n.id for n in view.notes] == [first.id, second.id] and view.note.note.id == second.id
    assert view.client.code == "C-001" and not view.note.transcript_changed
    older = load_session(JobContext(), service, session.id, first.id)
    assert older.note.note.status.value == "signed"


def test_sign_preview_states_exactly_the_share_signing_stores(service, drafted):
    _, note = drafted
    doc = service.tracked(note.id)
    doc.replace(len(doc.text), len(doc.text), "Client appeared tired.\n", author="dr.lee")
    preview = prepare_signing(JobContext(), service, note.id, doc)
    assert preview.note.text == doc.text and preview.share == doc.ai_share()
    assert preview.percent in preview.question() and "C-001" in preview.question()
    stored = service.sign(note.id, preview.note.text)
    assert Fraction(stored).limit_denominator(10**6) == preview.share.limit_denominator(10**6)


def test_regenerated_section_is_a_revision_with_provenance_audit_and_links(service, drafted, db):
    _, note = drafted
    regenerated = service.prepare_regeneration(JobContext(), note.id, "plan", generation=1)
    doc = service.tracked(note.id)
    regenerated.apply_to(doc)
    number = service.save_regeneration(note.id, doc, regenerated)
    revision = service.revisions(note.id)[-1]
    assert (revision.number, revision.kind) == (number, "regenerate")
    assert len(_audit(db, "notes.regenerate")) == 1
    evidence, flags = service.note_links(note.id)
    assert regenerated.chunks and all(evidence[c] for c, _ in regenerated.chunks)
    assert all(c in flags for c, _ in regenerated.chunks)
    with pytest.raises(Exception, match="another note"):
        service.save_regeneration(note.id + 1, doc, regenerated)


def test_export_needs_sign_permission_and_is_audited(service, drafted, settings, db):
    _, note = drafted
    path = service.export_note(note.id, "txt", settings.exports_dir)
    assert path.exists() and len(_audit(db, "notes.export")) == 1
    reader = NotesService(settings, db, UserSession(Actor("ro", Role.read_only)))
    path.unlink()
    with pytest.raises(PermissionDenied):
        reader.export_note(note.id, "pdf", settings.exports_dir)
    assert not path.exists() and not path.with_suffix(".pdf").exists() and len(_audit(db, "notes.export")) == 1


def test_insert_and_restore_ops_replay_exactly():
    doc = TrackedText()
    doc.append("PLAN\n", SpanKind.template, section="plan")
    doc.append("Keep a sleep diary.\n", SpanKind.ai, author="model:x", chunk="plan:0", section="plan")
    doc.append("Client agreed.\n", SpanKind.human, author="dr.lee", section="plan")
    before = list(doc.spans)
    moved = doc.pieces(5, 25)
    doc.replace(5, 25, "", author="dr.lee")
    doc.insert(len(doc.text), moved, author="dr.lee")
    assert doc.kind_at(len(doc.text) - 2) is SpanKind.ai_edited and doc.ai_share() == Fraction(20, 35)
    doc.restore(before)
    assert doc.spans == before
    again = replay(doc.ops)
    assert again.spans == doc.spans
    with pytest.raises(ValueError):
        doc.insert(999, [Span("x", SpanKind.human)], author="dr.lee")
