"""The audit trail's searches run in the io lane, never on the GUI thread.

The view used to search (and list every distinct actor, role, action and record type, a scan of the whole trail)
in place, on the GUI thread: a long trail, or a clinic's PostgreSQL server that answers slowly, froze the window.
``test_searches_and_pickers_run_off_the_gui_thread`` fails on 7d7286b; the second test pins that a slower, older
search never overwrites a newer one.
"""

from __future__ import annotations

import threading
import time

from argon2 import PasswordHasher

from medstation.access.audit_query import AuditTrail
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore
from medstation.ui.access.audit_view import AuditTrailView
from medstation.ui.runner import JobRunner

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _trail(db) -> UserSession:
    admin = UserSession(Actor("alice", Role.admin))
    AccountStore(db, hasher=FAST).add_user("alice", Role.admin, "admin password")
    for i in range(3):
        db.audit("note.view", actor=Actor("tom", Role.therapist), entity="note", entity_id=i)
    return admin


def test_searches_and_pickers_run_off_the_gui_thread(qtbot, db, monkeypatch):
    session = _trail(db)
    threads: list[threading.Thread] = []
    for name in ("search", "distinct"):
        original = getattr(AuditTrail, name)

        def recording(self, *args, _original=original, **kwargs):
            threads.append(threading.current_thread())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(AuditTrail, name, recording)
    runner = JobRunner()
    try:
        view = AuditTrailView(db, session, runner)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.table.rowCount() == 4, timeout=10000)  # user.add + three views
        view.actor.setCurrentText("tom")
        view.apply.click()
        qtbot.waitUntil(lambda: view.table.rowCount() == 3, timeout=10000)
        assert view.status.text().startswith("3 events")
        assert threads and all(t is not threading.main_thread() for t in threads), threads
    finally:
        runner.shutdown()


def test_an_older_search_never_overwrites_a_newer_one(qtbot, db, monkeypatch):
    session = _trail(db)
    original = AuditTrail.search

    def slow_when_unfiltered(self, flt):
        if not flt.actor:
            time.sleep(0.5)  # the first, unfiltered search answers last
        return original(self, flt)

    monkeypatch.setattr(AuditTrail, "search", slow_when_unfiltered)
    runner = JobRunner()
    try:
        view = AuditTrailView(db, session, runner)
        qtbot.addWidget(view)
        view.actor.setCurrentText("tom")
        handle = view.refresh()
        with qtbot.waitSignal(handle.sig_finished, timeout=10000):
            pass
        qtbot.wait(700)  # the unfiltered search has finished too by now
        assert view.table.rowCount() == 3 and view.status.text().startswith("3 events")
    finally:
        runner.shutdown()
