"""Notes tab and who is signed in: typed text carries the name of the person typing now (after "Switch
user…"), and a role without the edit permission gets a read-only note and no edit, sign or draft controls.

Both tests failed on commit 7d7286b (helper "breaknotes"): the editor kept the author it was built with,
and a read-only user could type into a draft whose autosave was then refused every second.
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from medstation.access.roles import Actor, Role
from medstation.notes.spans import SpanKind
from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)


def _type_at_end(tab, text: str) -> None:
    cursor = tab.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    tab.editor.setTextCursor(cursor)
    tab.editor.insertPlainText(text)


def test_text_typed_after_switching_user_is_attributed_to_the_new_user(qtbot, world):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    _type_at_end(tab, " first")
    notes.session.sign_in(Actor("dr.kim", Role.therapist))  # "Switch user…": the same window, another person
    _type_at_end(tab, " second")
    tab.flush()
    wait_idle(qtbot, world.runner)
    doc = notes.recover_autosave(world.note_a.id)
    authors = {s.text: s.author for s in doc.spans if s.kind is SpanKind.human}
    assert authors == {" first": "dr.lee", " second": "dr.kim"}


def test_a_read_only_user_gets_a_read_only_note_and_no_edit_controls(qtbot, world):
    tab, notes = world.tab, world.notes
    notes.session.sign_in(Actor("viewer", Role.read_only))
    show_session(qtbot, world, world.sa)
    assert tab.editor.isReadOnly()
    for name in ("draft", "save", "sign", "acknowledge", "regenerate", "undo_regenerate", "templates",
                 "export_text", "export_pdf"):  # export needs the sign permission (README)
        assert not tab.buttons[name].isEnabled(), name
    assert not any(b.isEnabled() for b in tab.edit_controls.values())  # import, paste, new client, ...
    assert tab.buttons["diff"].isEnabled()  # viewing stays possible
    qtbot.keyClicks(tab.editor, "x")  # a read-only editor takes no keystrokes
    assert tab.editor.toPlainText() == notes.note(world.note_a.id).text
    # the therapist signs in again: the same note becomes editable without reopening it
    notes.session.sign_in(Actor("dr.lee", Role.therapist))
    tab.actor_changed()
    assert not tab.editor.isReadOnly() and tab.buttons["save"].isEnabled()
