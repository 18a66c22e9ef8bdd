"""Admin tab, Users: add, change role, unlock, reset password, deactivate — in the io lane, checked and audited."""

from __future__ import annotations

import threading

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.account_admin import AccountAdmin
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore, LoginFailed
from medstation.store.tables import AuditEvent
from medstation.ui.admin.users_section import UsersSection
from medstation.ui.runner import JobRunner

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
STRONG = "Quarry-velvet-trombone-47"
STRONG2 = "Lantern-oyster-glacier-93"


@pytest.fixture
def section(qtbot, db):
    store = AccountStore(db, hasher=FAST)
    store.add_user("alice", Role.admin, STRONG)
    session = UserSession(Actor("alice", Role.admin))
    store.add_user("rita", Role.radiologist, STRONG, session=session)
    runner = JobRunner()
    widget = UsersSection(AccountAdmin(store, session), runner)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    yield widget, store
    runner.shutdown()


def _wait(qtbot, handle):
    assert handle is not None and handle.lane == "io"
    if not handle.finished:
        with qtbot.waitSignal(handle.sig_finished, timeout=10000):
            pass


def _actions(db, name):
    with db.session() as s:
        return [e for e in s.exec(select(AuditEvent).where(AuditEvent.action == name)).all()]


def test_accounts_are_listed_and_every_change_runs_off_the_gui_thread(qtbot, section, monkeypatch):
    widget, store = section
    assert [widget.table.item(i, 0).text() for i in range(widget.table.rowCount())] == ["alice", "rita"]
    threads = []
    original = AccountAdmin.change_role

    def spy(self, *args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AccountAdmin, "change_role", spy)
    widget.select("rita")
    widget.role_combo.setCurrentIndex(widget.role_combo.findData("therapist"))
    _wait(qtbot, widget._on_role_clicked())
    assert threads == [False]
    assert store.get("rita").role is Role.therapist
    qtbot.waitUntil(lambda: widget.table.item(1, 1).text() == "therapist", timeout=5000)
    assert widget.status.text() == "rita is now therapist."


def test_add_user_then_wrong_confirmation_and_weak_password_are_refused_with_a_sentence(qtbot, section):
    widget, store = section
    widget.add_name.setText("tom")
    widget.add_role.setCurrentIndex(widget.add_role.findData("therapist"))
    widget.add_password.setText(STRONG2)
    widget.add_password_again.setText(STRONG2 + "x")
    assert widget._on_add_clicked() is None and "differ" in widget.status.text()
    widget.add_password.setText("short")
    widget.add_password_again.setText("short")
    _wait(qtbot, widget._on_add_clicked())
    assert store.get("tom") is None and "characters" in widget.status.text()
    widget.add_password.setText(STRONG2)
    widget.add_password_again.setText(STRONG2)
    _wait(qtbot, widget._on_add_clicked())
    assert store.get("tom").role is Role.therapist and store.authenticate("tom", STRONG2).name == "tom"
    assert widget.add_password.text() == "" and widget.add_name.text() == ""


def test_unlock_reset_deactivate_reactivate_are_audited_as_the_admin(qtbot, section, db):
    widget, store = section
    for _ in range(5):
        with pytest.raises(LoginFailed):
            store.authenticate("rita", "not her password")
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.select("rita")
    assert widget.table.item(1, 2).text().startswith("locked until")
    _wait(qtbot, widget._act_on_selected("unlock", "unlocked"))
    assert store.get("rita").locked_until is None
    widget.new_password.setText(STRONG2)
    widget.new_password_again.setText(STRONG2)
    _wait(qtbot, widget._on_reset_clicked())
    assert store.authenticate("rita", STRONG2).name == "rita"
    qtbot.waitUntil(lambda: len(widget.accounts) == 2, timeout=5000)
    widget.select("rita")
    assert widget.active_button.text() == "Deactivate"
    _wait(qtbot, widget._on_active_clicked())
    with pytest.raises(LoginFailed):
        store.authenticate("rita", STRONG2)
    qtbot.waitUntil(lambda: widget.active_button.text() == "Reactivate", timeout=5000)
    _wait(qtbot, widget._on_active_clicked())
    assert store.get("rita").active
    for action in ("user.unlocked", "user.password_changed", "user.disabled", "user.enabled"):
        (event,) = _actions(db, action)
        assert event.actor == "alice" and event.role == "admin" and event.entity_id == "rita"


def test_deactivating_yourself_is_refused_by_the_service(qtbot, section):
    widget, store = section
    widget.select("alice")
    _wait(qtbot, widget._on_active_clicked())
    assert store.get("alice").active and "own account" in widget.status.text()


def test_a_non_admin_section_is_refused_by_the_service(qtbot, db):
    store = AccountStore(db, hasher=FAST)
    store.add_user("alice", Role.admin, STRONG)
    runner = JobRunner()
    widget = UsersSection(AccountAdmin(store, UserSession(Actor("rita", Role.radiologist))), runner)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh().sig_finished, timeout=10000):
        pass
    assert widget.table.rowCount() == 0 and "may not manage users" in widget.status.text()
    runner.shutdown()
