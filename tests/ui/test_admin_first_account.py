"""Admin tab, Users, in a data folder with no accounts yet (single-user mode): the form leads to the admin account.

The first account must be an admin. The Add form used to offer "radiologist" and, when clicked, answered with a
terminal command (`medstation users add NAME --role admin`) although an admin never needs a terminal. Now, with no
accounts, the form starts on "admin" and says why, and the refusal names the role to pick.
Both tests fail on 7d7286b.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from medstation.access.account_admin import AccountAdmin
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore
from medstation.ui.admin.users_section import UsersSection
from medstation.ui.runner import JobRunner

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
STRONG = "Quarry-velvet-trombone-47"


@pytest.fixture
def empty_section(qtbot, db):
    store = AccountStore(db, hasher=FAST)
    runner = JobRunner()
    widget = UsersSection(AccountAdmin(store, UserSession(Actor("root", Role.admin))), runner)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    yield widget, store
    runner.shutdown()


def test_with_no_accounts_the_form_starts_on_admin_and_says_why(empty_section):
    widget, _store = empty_section
    assert widget.add_role.currentData() == Role.admin.value
    assert "first account" in widget.status.shown_text() and "admin" in widget.status.shown_text()


def test_a_first_account_of_another_role_is_refused_in_the_tabs_own_words(qtbot, empty_section):
    widget, store = empty_section
    widget.add_name.setText("rita")
    widget.add_role.setCurrentIndex(widget.add_role.findData(Role.radiologist.value))
    widget.add_password.setText(STRONG)
    widget.add_password_again.setText(STRONG)
    handle = widget._on_add_clicked()
    if not handle.finished:
        with qtbot.waitSignal(handle.sig_finished, timeout=10000):
            pass
    shown = widget.status.toolTip() or widget.status.shown_text()
    assert "must be an admin" in shown
    assert "medstation users" not in shown and "--role" not in shown
    assert not store.has_accounts()
