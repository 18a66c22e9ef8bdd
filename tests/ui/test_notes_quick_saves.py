"""Saving twice in quick succession (a double-click, or Save, a few keys, Save again before the first save
has answered) stores both, and never reports this workstation's own save as another workstation's.

The first two tests fail on commit 7d7286b (helper "breaknotes"): the second save still carried the revision
the note had when it was opened, so the service refused it with "dr.lee saved revision 2 of this note on
another workstation ...; copy your changes, reopen the note and apply them again".
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)


def _type_at_end(qtbot, tab, text: str) -> None:
    cursor = tab.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    tab.editor.setTextCursor(cursor)
    qtbot.keyClicks(tab.editor, text)


def test_save_typing_and_save_again_before_the_first_answer_stores_both(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    _type_at_end(qtbot, tab, "First.")
    tab.save()
    _type_at_end(qtbot, tab, " Second.")
    tab.save()  # the first save is still queued in the io lane
    wait_idle(qtbot, world.runner)
    assert "another workstation" not in tab.status.text()
    assert tab.status.text() == "Saved revision 3."
    assert notes.note(world.note_a.id).text.endswith("First. Second.")


def test_a_double_clicked_save_is_one_save(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    _type_at_end(qtbot, tab, "Once.")
    tab.buttons["save"].click()
    tab.buttons["save"].click()
    wait_idle(qtbot, world.runner)
    assert tab.status.text() == "Saved revision 2."
    assert [r.number for r in notes.revisions(world.note_a.id)] == [1, 2]


def test_a_save_after_another_workstation_saved_is_still_refused(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    doc = notes.tracked(world.note_a.id)
    doc.replace(len(doc.text), len(doc.text), "Elsewhere.", author="dr.kim")
    notes.save_revision(world.note_a.id, doc)  # another workstation, after this tab opened the note
    _type_at_end(qtbot, tab, "Here.")
    tab.save()
    wait_idle(qtbot, world.runner)
    assert "another workstation" in tab.status.text()
    assert notes.note(world.note_a.id).text.endswith("Elsewhere.")
