"""Notes tab integrity: a job's result reaches only its own note; nothing is saved or signed from a streaming
draft or a cleared editor; the Sign dialog names what it signs; every note of a session stays listed.

Each test here failed on commit 1c99c71 (see the report of helper "notesui").
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox, QPushButton

from medstation.jobs import JobContext
from medstation.notes.drafting import NoteEvent
from medstation.notes.records import NoteStatus
from medstation.notes.spans import SpanKind
from tests.ui.notes_world import SESSION_A as SESSION_A_TEXT
from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)


def _type_at_end(tab, text: str) -> None:
    cursor = tab.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    tab.editor.setTextCursor(cursor)
    tab.editor.insertPlainText(text)


def _buttons(tab) -> dict[str, QPushButton]:
    return {b.text(): b for b in tab.findChildren(QPushButton)}


# --- 1. a job's result goes only to the note it was started for ---------------------------------------------

def test_regenerate_finishing_after_a_session_switch_never_reaches_the_open_note(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    b_text = notes.note(world.note_b.id).text
    tab.section_box.setCurrentIndex(0)
    tab.regenerate()  # the confirmation answers Yes (tests/qt_dialogs.py)
    show_session(qtbot, world, world.sb)  # switched before the regenerate job ran
    wait_idle(qtbot, world.runner)
    assert tab.note.id == world.note_b.id
    assert tab.editor.toPlainText() == b_text
    tab._autosave()
    wait_idle(qtbot, world.runner)
    assert notes.recover_autosave(world.note_b.id) is None
    assert notes.note(world.note_b.id).text == b_text


def test_a_draft_finishing_after_a_session_switch_never_reaches_the_open_note(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    b_text = notes.note(world.note_b.id).text
    tab.draft()
    show_session(qtbot, world, world.sb)
    wait_idle(qtbot, world.runner)
    assert tab.session_id == world.sb.id and tab.note.id == world.note_b.id
    assert tab.editor.toPlainText() == b_text
    _type_at_end(tab, "x")
    assert tab.editor.doc.counts()[SpanKind.human] == 1  # only what was typed is human
    tab._autosave()
    wait_idle(qtbot, world.runner)
    assert notes.recover_autosave(world.note_b.id).text == b_text + "x"


# --- 2. nothing is saved, signed or exported while a draft streams ------------------------------------------

def test_save_and_sign_while_a_draft_streams_write_nothing(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    before = [r.text for r in notes.revisions(world.note_a.id)]
    tab.draft()
    buttons = _buttons(tab)
    enabled = [name for name in ("Save", "Sign…", "Regenerate section", "Export text", "Export PDF")
               if buttons[name].isEnabled()]
    tab.save()
    tab.sign()
    tab._autosave()
    wait_idle(qtbot, world.runner)
    assert enabled == []
    assert [r.text for r in notes.revisions(world.note_a.id)] == before
    assert all(notes.note(n).status is NoteStatus.draft for n in notes.notes_for_session(world.sa.id))
    assert all(notes.note(n).text.strip() for n in notes.notes_for_session(world.sa.id))


def test_sign_pressed_while_a_draft_streams_never_signs_the_new_draft(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    tab.draft()

    def answer_after_the_draft_landed(*_args, **_kwargs):
        wait_idle(qtbot, world.runner)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_after_the_draft_landed)
    tab.sign()
    wait_idle(qtbot, world.runner)
    assert len(notes.notes_for_session(world.sa.id)) == 2
    assert all(notes.note(n).status is NoteStatus.draft for n in notes.notes_for_session(world.sa.id))


# --- 3. the Sign dialog names client, session and the exact share, and signs what it showed ----------------

def test_sign_dialog_names_client_session_and_the_exact_share_stored(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    _type_at_end(tab, "Client appeared tired.")
    asked: list[str] = []

    def answer(_parent, _title, text, *_a, **_k):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    tab.sign()
    wait_idle(qtbot, world.runner)
    note = notes.note(world.note_a.id)
    assert note.status is NoteStatus.signed
    assert "C-001" in asked[-1] and "2026-11-30" in asked[-1]
    assert f"{100 * note.ai_share_at_signing:.1f}%" in asked[-1]
    assert f"{100 * note.ai_share_at_signing:.1f}%" in tab.status.text()


def test_sign_signs_exactly_the_text_the_dialog_was_shown_for(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    shown = notes.note(world.note_a.id).text

    def answer(*_args, **_kwargs):  # meanwhile the editor changes and is saved (e.g. a late job result)
        _type_at_end(tab, "Words nobody reviewed.")
        tab.save()
        wait_idle(qtbot, world.runner)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    tab.sign()
    wait_idle(qtbot, world.runner)
    note = notes.note(world.note_a.id)
    assert note.status is NoteStatus.draft or note.text == shown
    assert "Words nobody reviewed." in note.text  # the later edit was saved, just not signed


# --- 5. a failed or cancelled draft leaves no orphan text ---------------------------------------------------

def test_a_failed_draft_leaves_no_preview_text_behind(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    a_text = notes.note(world.note_a.id).text

    def failing(ctx, *_args, **_kwargs):
        ctx.partial(NoteEvent("section", "subjective", "Subjective"))
        ctx.partial(NoteEvent("sentence", "subjective", "Preview sentence that must vanish."))
        raise RuntimeError("the model crashed")

    monkeypatch.setattr(notes, "draft", failing)
    tab.draft()
    wait_idle(qtbot, world.runner)
    assert "Preview sentence" not in tab.editor.toPlainText()
    assert tab.editor.toPlainText() == a_text and not tab.editor.isReadOnly()
    _type_at_end(tab, "y")
    assert tab.editor.doc.counts()[SpanKind.human] == 1
    tab._autosave()
    tab.save()
    wait_idle(qtbot, world.runner)
    for note_id in notes.notes_for_session(world.sa.id):
        assert "Preview sentence" not in notes.note(note_id).text


# --- 6. "Draft note" asks first; every note stays listed; a signed note is never hidden ----------------------

def test_drafting_again_asks_first_and_every_note_stays_listed(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    notes.sign(world.note_a.id, notes.note(world.note_a.id).text)
    show_session(qtbot, world, world.sa)
    asked: list[str] = []

    def answer_no(_parent, _title, text, *_a, **_k):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    tab.draft()
    wait_idle(qtbot, world.runner)
    assert asked and "signed" in asked[-1]
    assert notes.notes_for_session(world.sa.id) == [world.note_a.id]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.draft()
    wait_idle(qtbot, world.runner)
    ids = notes.notes_for_session(world.sa.id)
    assert len(ids) == 2
    qtbot.waitUntil(lambda: tab.note_list.count() == 2)
    listed = [tab.note_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(tab.note_list.count())]
    assert sorted(listed) == sorted(ids)
    signed_row = listed.index(world.note_a.id)
    assert "signed" in tab.note_list.item(signed_row).text().lower()
    tab.note_list.setCurrentRow(signed_row)
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: tab.note.id == world.note_a.id)
    assert tab.editor.toPlainText() == notes.note(world.note_a.id).text and tab.editor.isReadOnly()


# --- 12. acknowledging needs a chosen flag; a refused sign-off says why ------------------------------------

RISKY = """Therapist: How was the week?
Client: Sometimes I want to die when the panic gets bad.
Client: I also drink more than before, most evenings.
Therapist: We will make a safety plan together today.
"""


def test_acknowledging_needs_a_chosen_flag_and_a_refused_sign_off_says_why(qtbot, world,
                                                                           non_blocking_message_boxes):
    tab, notes = world.tab, world.notes
    client = notes.create_client("C-003")
    session = notes.create_session(client.id, "2026-12-02")
    notes.import_transcript(session.id, RISKY, "r.txt")
    note = notes.draft(JobContext(), session.id, "soap")
    assert note.pending_risks
    tab.refresh()
    wait_idle(qtbot, world.runner)
    show_session(qtbot, world, session)
    assert tab.risks.count() >= 1
    tab.acknowledge()  # nothing chosen in the list
    wait_idle(qtbot, world.runner)
    assert notes.note(note.id).acknowledged == ()
    assert "choose" in tab.status.text().lower()
    tab.sign()
    wait_idle(qtbot, world.runner)
    assert notes.note(note.id).status is NoteStatus.draft
    assert not any(title.startswith("Sign") for _kind, title in non_blocking_message_boxes)  # refused first
    assert note.pending_risks[0]["label"] in tab.status.text()


def _audit(db, action: str) -> list:
    from sqlmodel import select

    from medstation.store.tables import AuditEvent

    with db.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


# --- 7. a regenerated section stores provenance and an audit event, and keeps evidence and fact flags -------

def test_a_regenerated_section_is_stored_with_provenance_audit_and_evidence(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    keys = [tab.section_box.itemData(i) for i in range(tab.section_box.count())]
    tab.section_box.setCurrentIndex(keys.index("plan"))
    tab.regenerate()
    wait_idle(qtbot, world.runner)
    revisions = notes.revisions(world.note_a.id)
    assert revisions[-1].kind == "regenerate"
    assert len(_audit(notes.db, "notes.regenerate")) == 1
    new_chunks = {s["chunk"] for s in revisions[-1].spans if s["section"] == "plan" and s["kind"] == "ai"}
    assert new_chunks and all(":g" in c for c in new_chunks)
    show_session(qtbot, world, world.sb)  # away and back: the links come from the database
    show_session(qtbot, world, world.sa)
    assert all(tab.editor.evidence.get(c) for c in new_chunks)  # every regenerated sentence keeps its lines
    assert all(c in tab.editor.fact_flags for c in new_chunks)


# --- 8. evidence links use the transcript version the note was drafted from ----------------------------------

def test_evidence_links_point_into_the_drafted_transcript_version_and_say_it_changed(qtbot, world):
    tab, notes = world.tab, world.notes
    notes.import_transcript(world.sa.id, "Therapist: Good morning, come in.\n" + SESSION_A_TEXT, "a2.txt")
    show_session(qtbot, world, world.sa)
    at = tab.editor.toPlainText().index("breathing")  # the plan item drafted from the breathing line
    cursor = tab.editor.textCursor()
    cursor.setPosition(at + 3)
    tab.editor.setTextCursor(cursor)
    lit = [tab.transcript.item(i).text() for i in range(tab.transcript.count())
           if tab.transcript.item(i).background().color().name() == "#fde047"]
    assert lit and all("breathing" in text for text in lit)
    assert "changed" in tab.transcript_label.text()


# --- 10. note export is permission-checked and audited ------------------------------------------------------

def test_note_export_is_permission_checked_and_audited(qtbot, world, settings, db):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.notes.service import NotesService
    from medstation.ui.notes.tab import NotesTab

    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    tab.export_text()
    wait_idle(qtbot, world.runner)
    exported = Path(settings.exports_dir) / f"note_{world.note_a.id}.txt"
    assert exported.exists() and len(_audit(db, "notes.export")) == 1
    exported.unlink()

    reader = NotesTab(NotesService(settings, db, UserSession(Actor("ro", Role.read_only))), world.runner)
    qtbot.addWidget(reader)
    reader.select_session(world.sa.id)
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: reader.note is not None)
    reader.export_text()
    reader.export_pdf()
    wait_idle(qtbot, world.runner)
    assert not exported.exists() and not exported.with_suffix(".pdf").exists()
    assert len(_audit(db, "notes.export")) == 1


# --- 9. every database call of the Notes tab runs off the GUI thread ----------------------------------------

def test_no_database_call_of_the_notes_tab_runs_on_the_gui_thread(qtbot, world, monkeypatch):
    import threading

    tab, db = world.tab, world.notes.db
    on_gui: list[str] = []
    for name in ("session", "audit"):
        real = getattr(db, name)

        def watched(*args, _real=real, _name=name, **kwargs):
            if threading.current_thread() is threading.main_thread():
                on_gui.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(db, name, watched)
    tab.refresh()
    show_session(qtbot, world, world.sb)
    show_session(qtbot, world, world.sa)
    _type_at_end(tab, "Client appeared tired.")
    tab._autosave()
    tab.save()
    tab.section_box.setCurrentIndex(0)
    tab.regenerate()
    wait_idle(qtbot, world.runner)
    tab.show_diff()
    tab.sign()
    wait_idle(qtbot, world.runner)
    tab.export_text()
    wait_idle(qtbot, world.runner)
    assert on_gui == []
    assert world.notes.note(world.note_a.id).status is NoteStatus.signed
