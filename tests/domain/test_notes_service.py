"""Notes service: permissions, transcript versions, sign-off locking, addenda, export, kill during save."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from medstation.access.roles import Actor, PermissionDenied, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from medstation.notes.export import export_pdf, note_plain_text
from medstation.notes.records import NoteLocked, NoteStatus, SignOffBlocked
from medstation.notes.service import NotesService
from medstation.notes.spans import SpanKind
from medstation.notes.transcript import TranscriptError

pytestmark = pytest.mark.both_engines
ROOT = Path(__file__).resolve().parents[2]
SESSION = """Therapist: How was the week?
Client: I have been feeling anxious at work and I have trouble sleeping most nights since the move.
Client: Sometimes I want to die when the panic gets bad.
Therapist: I think this is consistent with generalized anxiety and it is worsening this month.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""


@pytest.fixture
def service(settings, db):
    return NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))


def _drafted(service):
    client = service.create_client("C-001")
    sess = service.create_session(client.id, "2026-11-30")
    service.import_transcript(sess.id, SESSION.encode(), "s.txt")
    note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    return sess, note


def test_bad_transcript_stores_nothing(service):
    client = service.create_client("C-002")
    sess = service.create_session(client.id, "2026-11-30")
    with pytest.raises(TranscriptError):
        service.import_transcript(sess.id, b"\x00\x00\x00", "rec.m4a")
    with pytest.raises(Exception, match="no transcript"):
        service.latest_transcript(sess.id)


def test_speaker_swap_adds_a_transcript_version(service):
    sess, _ = _drafted(service)
    swapped = service.swap_speakers(sess.id)
    info, transcript = service.latest_transcript(sess.id)
    assert (swapped.version, info.roles_swapped, transcript.lines[0].role.value) == (2, True, "client")


def test_sign_off_needs_acknowledged_risks_then_locks(service):
    sess, note = _drafted(service)
    assert [f["category"] for f in note.pending_risks] == ["suicidal_ideation"]
    assert "suicidal ideation" in note.text
    doc = service.tracked(note.id)
    pos = doc.text.index("PLAN\n") + len("PLAN\n")
    doc.replace(pos, pos, "Safety plan reviewed together. ", author="dr.lee")
    assert service.save_revision(note.id, doc) == 2
    with pytest.raises(SignOffBlocked, match="suicidal ideation"):
        service.sign(note.id, doc.text)
    service.acknowledge_risk(note.id, "suicidal_ideation", "safety plan in place")
    with pytest.raises(SignOffBlocked, match="differs"):
        service.sign(note.id, doc.text + "unsaved")
    share = service.sign(note.id, doc.text)
    assert share == pytest.approx(float(doc.ai_share())) and 0 < share < 1
    signed = service.note(note.id)
    assert signed.status is NoteStatus.signed and signed.ai_share_at_signing == share
    doc.replace(0, 4, "XXXX", author="dr.lee")
    with pytest.raises(NoteLocked):
        service.save_revision(note.id, doc)
    service.add_addendum(note.id, "Client called to confirm the next appointment.")
    after = service.note(note.id)
    assert after.text == signed.text and len(after.addenda) == 1
    text = note_plain_text(after, service.session_info(sess.id), "C-001")
    assert "Addendum" in text and "Signed by dr.lee" in text
    pdf = export_pdf(after, service.session_info(sess.id), "C-001", Path(service.settings.exports_dir) / "n.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_read_only_user_cannot_edit(settings, db, service):
    _drafted(service)
    reader = NotesService(settings, db, UserSession(Actor("viewer", Role.read_only)))
    assert [c.code for c in reader.clients()] == ["C-001"]
    with pytest.raises(PermissionDenied):
        reader.create_client("C-009")
    radiologist = NotesService(settings, db, UserSession(Actor("rad", Role.radiologist)))
    with pytest.raises(PermissionDenied):
        radiologist.clients()


def test_revisions_keep_span_tags(service):
    _, note = _drafted(service)
    doc = service.tracked(note.id)
    doc.replace(len(doc.text), len(doc.text), "Human line.\n", author="dr.lee")
    service.save_revision(note.id, doc)
    revs = service.revisions(note.id)
    assert [r.number for r in revs] == [1, 2] and revs[0].ai_share == 1.0 and revs[1].ai_share < 1.0
    kinds = {d["kind"] for d in revs[1].spans}
    assert {"ai", "human", "template"} <= kinds


WRITER = r"""
import sys
from medstation.access.roles import Actor, Role, UserSession
from medstation.config import Settings
from medstation.notes.service import NotesService
from medstation.store.database import Database
settings = Settings(); db = Database(settings.db_path)
svc = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
note_id = int(sys.argv[1])
doc = svc.tracked(note_id)
i = 0
while True:
    i += 1
    doc.replace(len(doc.text), len(doc.text), f"line {i}\n", author="dr.lee")
    svc.autosave(note_id, doc, i)
    if i % 3 == 0:
        number = svc.save_revision(note_id, doc)
        print(f"saved {number} {len(doc.text)}", flush=True)
"""


def test_kill_during_save_loses_no_saved_revision(service, settings, db):
    if db.path is None:
        pytest.skip("kills a writer on the SQLite file (the PostgreSQL server's recovery is the server's own)")
    _, note = _drafted(service)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(note.id)], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    reported = []
    for line in proc.stdout:
        reported.append(line.split())
        if len(reported) >= 8:
            break
    proc.send_signal(signal.SIGKILL)  # in the middle of the next autosave/revision write
    proc.wait(timeout=30)
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    revs = {r.number: r for r in service.revisions(note.id)}
    for _, number, length in reported:
        assert len(revs[int(number)].text) == int(length)  # every revision the writer was told is saved, is
    recovered = service.recover_autosave(note.id)
    latest = max(revs)
    assert recovered is None or len(recovered.text) >= len(revs[latest].text)
    assert service.tracked(note.id).text == revs[latest].text
    assert service.tracked(note.id).spans[-1].kind is SpanKind.human


def test_multi_session_summary_links_statements_to_sessions(service):
    from medstation.notes.summary import client_summary, summary_text

    client = service.create_client("C-777")
    first = service.create_session(client.id, "2026-11-02")
    second = service.create_session(client.id, "2026-11-16")
    service.import_transcript(first.id, SESSION.replace("Sometimes I want to die when the panic gets bad.\n", ""))
    service.import_transcript(second.id, SESSION)
    n1 = service.draft(JobContext(), first.id, "soap", DraftOptions(use_model=False))
    service.sign(n1.id, n1.text)
    n2 = service.draft(JobContext(), second.id, "soap", DraftOptions(use_model=False))
    statements = client_summary(service, client.id)
    assert {s.kind for s in statements} == {"course", "latest", "plan"}
    assert all(s.session_id == first.id for s in statements if s.kind == "plan")
    assert all(s.session_id == second.id and not s.signed for s in statements if s.kind == "latest")
    for s in statements:  # every statement rests on lines of the notes it links to
        assert s.sources or s.theme == "risk"
        assert all(any(line in service.note(n).text for n in (n1.id, n2.id)) for line in s.sources)
    risk = [s for s in statements if s.theme == "risk"]
    assert len(risk) == 1 and "suicidal ideation" in risk[0].text and "present on 2026-11-16" in risk[0].text
    assert "[session 2026-11-16, draft]" in summary_text(statements) and n2.status.value == "draft"


def test_summary_tells_the_course_and_never_turns_a_risk_episode_into_a_denial(service):
    """Fails on 1c99c71: the old summary listed quotes, and the latest note's denial stood alone."""
    from medstation.notes.summary import client_summary, summary_text

    client = service.create_client("C-778")
    sessions = [service.create_session(client.id, d) for d in ("2026-10-05", "2026-10-19", "2026-11-02")]
    transcripts = [
        "T: How have you been sleeping?\nC: I've been sleeping about four hours a night.\n"
        "C: Some nights I want to die, honestly.\nT: I want you to keep a sleep diary this week.\n",
        "T: How is the sleep?\nC: I stopped taking the sertraline last week and I didn't tell my psychiatrist.\n"
        "C: I'm sleeping about six hours now.\nT: Any thoughts of suicide?\nC: No.\n"
        "T: I'd like you to call your psychiatrist by Friday.\n",
        "T: How are you?\nC: I've been sleeping about seven hours and my mood is a six out of ten.\n"
        "T: Any thoughts of suicide since we last met?\nC: No, none.\nT: Let's meet again on December 1.\n",
    ]
    for sess, text in zip(sessions, transcripts):
        service.import_transcript(sess.id, text)
        note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
        for flag in note.pending_risks:
            service.acknowledge_risk(note.id, flag["category"], "safety plan reviewed")
        service.sign(note.id, note.text)
    statements = client_summary(service, client.id)
    text = summary_text(statements)
    themes = {s.theme for s in statements if s.kind == "course"}
    assert {"risk", "medication", "sleep", "homework"} <= themes
    sleep = next(s for s in statements if s.theme == "sleep")
    assert "Trend: 4 h (2026-10-05) to 7 h (2026-11-02), up." in sleep.text
    medication = next(s for s in statements if s.theme == "medication")
    assert "stopped taking the sertraline" in medication.text and "did not tell" in medication.text
    for line in text.splitlines():  # suicidal ideation was present once: never told as a denial only
        if "suicidal ideation" in line:
            assert "Risk episode" in line and "present on 2026-10-05" in line, line
    assert "denied" not in text.split("Risk episode")[0]


def test_custom_template_is_stored_validated_and_drafts(service):
    from medstation.notes.templates import TemplateError

    spec = {"name": "progress", "title": "Progress note", "sections": [
        {"key": "presentation", "title": "Presentation", "instruction": "Mood and report.", "cues": ["history"]},
        {"key": "next", "title": "Next steps", "instruction": "Homework.", "cues": ["plan"], "min_sentences": 1}]}
    saved = service.templates.save(spec, author="dr.lee")
    assert service.templates.get("progress").version == saved.version and "progress" in service.templates.names()
    with pytest.raises(TemplateError, match="Unknown cue group"):
        service.templates.save({**spec, "sections": [{"key": "x", "title": "X", "cues": ["vibes"]}]}, author="dr.lee")
    with pytest.raises(TemplateError, match="built-in"):
        service.templates.save({**spec, "name": "soap"}, author="dr.lee")
    client = service.create_client("C-900")
    sess = service.create_session(client.id, "2026-12-01")
    service.import_transcript(sess.id, SESSION)
    note = service.draft(JobContext(), sess.id, "progress", DraftOptions(use_model=False))
    assert note.template == "progress" and "NEXT STEPS\nWill practice breathing" in note.text  # issue 18: a plan item, not a quote
    assert note.draft["provenance"]["template_version"] == saved.version
