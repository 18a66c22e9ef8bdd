"""Sign-in dialog, idle lock (work kept, password asked again) and the audit trail view."""

from __future__ import annotations

import sqlite3

import pytest
from argon2 import PasswordHasher
from PySide6.QtWidgets import QLineEdit, QMainWindow

from medstation.access.roles import Actor, NotSignedIn, Permission, Role, UserSession
from medstation.access.users import AccountStore
from medstation.ui.runner import JobRunner

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def store(db):
    s = AccountStore(db, hasher=FAST)
    s.add_user("alice", Role.admin, "admin password")
    s.add_user("rita", Role.radiologist, "radiology pw", session=UserSession(Actor("alice", Role.admin)))
    return s


def test_login_dialog_reports_failure_then_signs_in(qtbot, store):
    from medstation.ui.access.login_dialog import LoginDialog

    dialog = LoginDialog(store)
    qtbot.addWidget(dialog)
    dialog.name.setText("rita")
    dialog.password.setText("nope")
    dialog._submit()
    assert dialog.error.text() == "Wrong user name or password." and dialog.actor is None
    dialog.password.setText("radiology pw")
    dialog._submit()
    assert dialog.actor == Actor("rita", Role.radiologist) and dialog.result() == dialog.DialogCode.Accepted


def test_first_run_dialog_creates_an_admin(qtbot, db):
    from medstation.ui.access.login_dialog import FirstRunDialog

    store = AccountStore(db, hasher=FAST)
    dialog = FirstRunDialog(store)
    qtbot.addWidget(dialog)
    dialog.name.setText("boss")
    dialog.password.setText("long enough")
    dialog.confirm.setText("different")
    dialog._submit()
    assert "differ" in dialog.error.text() and not store.has_accounts()
    dialog.password.setText("long enough")
    dialog.confirm.setText("long enough")
    dialog._submit()
    assert store.get("boss").role is Role.admin and dialog.actor.role is Role.admin


def test_idle_lock_keeps_work_and_asks_for_the_password(qtbot, store):
    from medstation.ui.access.idle_lock import IdleLock

    session = UserSession(Actor("rita", Role.radiologist))
    window = QMainWindow()
    draft = QLineEdit("unsaved finding")
    window.setCentralWidget(draft)
    qtbot.addWidget(window)
    window.show()
    runner = JobRunner()
    lock = IdleLock(window, store, session, minutes=0.002, runner=runner)  # 120 ms
    qtbot.waitUntil(lambda: session.locked, timeout=3000)
    assert lock.cover.isVisible()
    with pytest.raises(NotSignedIn, match="locked"):
        session.require(Permission.view_imaging)
    lock.cover.password.setText("wrong")
    with qtbot.waitSignal(lock.cover.try_unlock().sig_finished, timeout=10000):  # checked in the io lane
        pass
    assert session.locked and "Wrong" in lock.cover.error.text()
    lock.cover.password.setText("radiology pw")
    with qtbot.waitSignal(lock.cover.try_unlock().sig_finished, timeout=10000):
        pass
    assert not session.locked and not lock.cover.isVisible()
    assert draft.text() == "unsaved finding"  # the work under the cover is untouched
    assert session.require(Permission.view_imaging).name == "rita"


def test_only_the_signed_in_user_unlocks(store):
    session = UserSession(Actor("rita", Role.radiologist))
    session.lock()
    from medstation.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        session.unlock(Actor("alice", Role.admin))
    assert session.locked


def test_audit_view_filters_and_verifies(qtbot, db, store):
    from medstation.ui.access.audit_view import AuditTrailView

    for i in range(3):
        db.audit("note.view", actor=Actor("tom", Role.therapist), entity="note", entity_id=i)
    view = AuditTrailView(db, UserSession(Actor("alice", Role.admin)))
    qtbot.addWidget(view)
    assert view.table.rowCount() == 5  # two user.add + three views
    view.actor.setCurrentText("tom")
    view.refresh()
    assert view.table.rowCount() == 3 and view.table.item(0, 4).text() == "note 2"
    view.actor.setCurrentText("")
    view.action.setCurrentText("user.")
    view.refresh()
    assert [view.table.item(i, 3).text() for i in range(view.table.rowCount())] == ["user.add", "user.add"]
    view.since.setText("2999-01-01")
    view.refresh()
    assert view.table.rowCount() == 0
    view.since.setText("not a date")
    view.refresh()
    assert "YYYY-MM-DD" in view.status.text()
    view.verify()
    assert "intact: 5 events" in view.status.text()
    con = sqlite3.connect(db.path)
    con.execute("UPDATE audit_event SET actor = 'x' WHERE id = 4")
    con.commit()
    con.close()
    view.verify()
    assert "BROKEN at event 4" in view.status.text()


def test_audit_view_refuses_non_admins(qtbot, db, store):
    from medstation.ui.access.audit_view import AuditTrailView

    view = AuditTrailView(db, UserSession(Actor("rita", Role.radiologist)))
    qtbot.addWidget(view)
    assert view.table.rowCount() == 0 and "may not view audit" in view.status.text()


class _Services:
    def __init__(self, db, settings):
        self.db, self.settings, self.extra = db, settings, {}


def test_launch_without_accounts_is_single_user_with_a_create_admin_button(qtbot, db, settings):
    from medstation.ui.access.gate import install_access, sign_in_at_launch

    services = _Services(db, settings)
    session = sign_in_at_launch(services)
    assert session.actor.role is Role.admin
    window = QMainWindow()
    window.setWindowTitle("MedStation")
    qtbot.addWidget(window)
    assert install_access(window, services, session, runner=JobRunner()) is None
    from PySide6.QtWidgets import QPushButton

    assert window.statusBar().findChild(QPushButton, "create_admin") is not None
    assert f"· {session.actor.name} (admin)" in window.windowTitle()


def test_launch_with_accounts_requires_sign_in(qtbot, db, settings, store, monkeypatch):
    from medstation.ui.access import login_dialog
    from medstation.ui.access.gate import install_access, sign_in_at_launch

    services = _Services(db, settings)
    monkeypatch.setattr(login_dialog.LoginDialog, "exec", lambda self: self.DialogCode.Rejected)
    assert sign_in_at_launch(services) is None

    def sign_in(self):
        self.name.setText("rita")
        self.password.setText("radiology pw")
        self._submit()
        return self.result()

    monkeypatch.setattr(login_dialog.LoginDialog, "exec", sign_in)
    session = sign_in_at_launch(services)
    assert session.actor == Actor("rita", Role.radiologist)
    window = QMainWindow()
    qtbot.addWidget(window)
    lock = install_access(window, services, session, runner=JobRunner())
    assert lock is not None and lock.interval_ms == 15 * 60_000


def test_idle_lock_covers_open_dialogs_and_unlocks_from_them(qtbot, store):
    """Fails on 1c99c71: an open dialog stayed readable above the lock, and a modal one blocked the password box."""
    from PySide6.QtWidgets import QDialog, QVBoxLayout

    from medstation.ui.access.idle_lock import IdleLock, LockCover

    session = UserSession(Actor("rita", Role.radiologist))
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    dialog = QDialog(window)
    words = QLineEdit("addendum about the client, unsaved")
    QVBoxLayout(dialog).addWidget(words)
    dialog.resize(500, 300)
    dialog.open()  # window-modal: the main window's cover takes no input now
    qtbot.waitExposed(dialog)
    runner = JobRunner()
    lock = IdleLock(window, store, session, minutes=0.002, runner=runner)
    qtbot.waitUntil(lambda: session.locked, timeout=3000)
    covers = [c for c in dialog.findChildren(LockCover) if c.isVisible()]
    assert len(covers) == 1 and covers[0].geometry() == dialog.rect()
    covers[0].password.setText("radiology pw")
    with qtbot.waitSignal(covers[0].try_unlock().sig_finished, timeout=10000):  # checked in the io lane
        pass
    assert not session.locked and not lock.cover.isVisible()
    assert not any(c.isVisible() for c in dialog.findChildren(LockCover))
    assert dialog.isVisible() and words.text() == "addendum about the client, unsaved"
