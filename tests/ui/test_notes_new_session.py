""""New session" offers today's date and refuses what is not a date with a sentence on the status line.

Fails on commit 7d7286b (helper "breaknotes"): "tomorrow" was stored as a session and listed in the tree.
"""

from __future__ import annotations

import datetime

from PySide6.QtWidgets import QInputDialog

from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)


def test_new_session_offers_today_and_refuses_a_non_date(qtbot, world, monkeypatch):
    tab, notes = world.tab, world.notes
    show_session(qtbot, world, world.sa)
    offered = []

    def answer(parent, title, label, *args, text="", **kwargs):
        offered.append(text)
        return "tomorrow", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(answer))
    tab.session_actions.new_session()
    wait_idle(qtbot, world.runner)
    assert offered == [datetime.date.today().isoformat()]
    assert "YYYY-MM-DD" in tab.status.text()
    assert [s.session_date for s in notes.sessions(world.sa.client_id)] == ["2026-11-30"]
