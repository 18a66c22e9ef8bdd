"""Notes tab with real services on a small transcript (extractive drafting: no model in this test)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from medstation.access.roles import Actor, Role, UserSession
from medstation.notes.records import NoteStatus
from medstation.notes.service import NotesService
from medstation.notes.spans import SpanKind
from medstation.ui.notes.tab import NotesTab
from medstation.ui.runner import JobRunner
from tests.ui.notes_world import wait_idle

SESSION = """Therapist: How was the week?
Client: I have been feeling anxious at work and I have trouble sleeping most nights since the move.
Client: Sometimes I want to die when the panic gets bad.
Therapist: I think this is consistent with generalized anxiety and it is worsening this month.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""


@pytest.fixture
def tab(qtbot, settings, db):
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    client = notes.create_client("C-001")
    session = notes.create_session(client.id, "2026-11-30")
    notes.import_transcript(session.id, SESSION, "s.txt")
    runner = JobRunner()
    widget = NotesTab(notes, runner)
    qtbot.addWidget(widget)
    widget.select_session(session.id)
    wait_idle(qtbot, runner)
    yield widget
    runner.shutdown()


def test_draft_edit_acknowledge_and_sign(qtbot, tab, monkeypatch):
    assert tab.transcript.count() == 5
    tab.draft()
    with qtbot.waitSignal(tab.draft_handle.sig_finished, timeout=60_000):
        pass
    wait_idle(qtbot, tab.runner)
    qtbot.waitUntil(lambda: tab.note is not None)
    assert "PLAN" in tab.editor.toPlainText() and "suicidal ideation" in tab.editor.toPlainText()
    assert "awaiting acknowledgement" in tab.risks.item(0).text()

    # clicking a drafted sentence highlights its transcript line, and back
    plan_at = tab.editor.toPlainText().index("Will practice")  # issue 18: a plan item in clinical voice
    cursor = tab.editor.textCursor()
    cursor.setPosition(plan_at + 3)
    tab.editor.setTextCursor(cursor)
    assert tab.transcript.item(4).background().color().name() == "#fde047"
    tab._on_transcript_clicked(tab.transcript.item(4))
    assert len(tab.editor.extraSelections()) == 1

    # a human edit inside an AI sentence: that sentence becomes AI-edited, the typed words human
    cursor.setPosition(plan_at + len("Will "))
    tab.editor.setTextCursor(cursor)
    tab.editor.insertPlainText("both ")
    assert tab.editor.doc.kind_at(plan_at + len("Will ")) is SpanKind.human
    assert tab.editor.doc.kind_at(plan_at) is SpanKind.ai_edited
    assert tab.editor.doc.kind_at(tab.editor.toPlainText().index("Client reports feeling")) is SpanKind.ai
    assert tab.editor.toPlainText() == tab.editor.doc.text

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.sign()
    wait_idle(qtbot, tab.runner)
    assert tab.note.status is NoteStatus.draft and "acknowledge the risk flag" in tab.status.text().lower()
    tab.acknowledge()  # no flag chosen: nothing is acknowledged
    wait_idle(qtbot, tab.runner)
    assert "Choose the risk flag" in tab.status.text() and not tab.note.acknowledged
    tab.risks.setCurrentRow(0)
    tab.acknowledge()
    wait_idle(qtbot, tab.runner)
    tab.sign()
    wait_idle(qtbot, tab.runner)
    assert tab.note.status is NoteStatus.signed
    assert tab.note.ai_share_at_signing == pytest.approx(float(tab.editor.doc.ai_share()))
    assert tab.editor.isReadOnly()


def test_each_flag_shows_its_line_and_why(qtbot, tab):
    """Issue 18: a flag names the line it came from and why it was raised, not only its category
    (fails on ad2cb94, where the list showed "suicidal ideation — present (lines [3])" alone)."""
    tab.draft()
    with qtbot.waitSignal(tab.draft_handle.sig_finished, timeout=60_000):
        pass
    wait_idle(qtbot, tab.runner)
    qtbot.waitUntil(lambda: tab.note is not None)
    item = tab.risks.item(0)
    flag = tab.note.risk_flags[0]
    assert "Sometimes I want to die" in item.text()  # the line itself, quoted
    assert flag["details"][0]["why"] in item.toolTip()  # the full reason for every mention
    assert ("pattern" in item.text()) or ("nearest exemplar" in item.text())  # why, in short
