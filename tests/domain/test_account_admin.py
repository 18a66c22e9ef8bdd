"""Account administration for the Admin tab: role changes, (de)activation, resets, sign-out; checked and audited."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.account_admin import AccountAdmin, sign_out
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountError, AccountStore, LoginFailed
from medstation.errors import PermissionDenied
from medstation.store.tables import AuditEvent

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
STRONG = "Quarry-velvet-trombone-47"  # strong enough for any strength rule
STRONG2 = "Lantern-oyster-glacier-93"


@pytest.fixture
def store(db):
    s = AccountStore(db, hasher=FAST)
    s.add_user("alice", Role.admin, STRONG)
    session = UserSession(Actor("alice", Role.admin))
    s.add_user("rita", Role.radiologist, STRONG, session=session)
    return s


@pytest.fixture
def admin(store):
    return AccountAdmin(store, UserSession(Actor("alice", Role.admin)))


def _events(db, action):
    with db.session() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_change_role_is_stored_and_audited_with_old_and_new_role(store, admin, db):
    info = admin.change_role("rita", "therapist")
    assert info.role is Role.therapist and store.get("rita").role is Role.therapist
    assert store.authenticate("rita", STRONG).role is Role.therapist
    (event,) = _events(db, "user.role_changed")
    assert event.actor == "alice" and event.entity_id == "rita"
    assert event.detail["old_role"] == "radiologist" and event.detail["new_role"] == "therapist"
    with pytest.raises(AccountError, match="already has"):
        admin.change_role("rita", "therapist")
    with pytest.raises(AccountError, match="Unknown role"):
        admin.change_role("rita", "surgeon")


def test_the_last_admin_cannot_be_demoted_or_deactivated_and_nobody_acts_on_themselves(store, admin):
    with pytest.raises(AccountError, match="own role"):
        admin.change_role("alice", "radiologist")
    with pytest.raises(AccountError, match="own account"):
        admin.set_active("alice", False)
    admin.add("bob", "admin", STRONG2)
    bob = AccountAdmin(store, UserSession(Actor("bob", Role.admin)))
    bob.change_role("alice", "read_only")  # another admin remains (bob): allowed
    assert store.get("alice").role is Role.read_only
    with pytest.raises(AccountError, match="last active admin"):
        AccountAdmin(store, UserSession(Actor("carl", Role.admin))).change_role("bob", "therapist")


def test_deactivate_refuses_sign_in_and_reactivate_restores_it(store, admin, db):
    admin.set_active("rita", False)
    with pytest.raises(LoginFailed):
        store.authenticate("rita", STRONG)
    assert admin.set_active("rita", True).active
    assert store.authenticate("rita", STRONG).name == "rita"
    assert [e.action for e in _events(db, "user.disabled")] == ["user.disabled"]
    assert _events(db, "user.enabled")[0].actor == "alice"


def test_reset_password_and_unlock_go_through_the_store(store, admin, db):
    for _ in range(5):
        with pytest.raises(LoginFailed):
            store.authenticate("rita", "wrong password here")
    assert store.get("rita").locked_until is not None
    assert admin.unlock("rita").locked_until is None
    admin.reset_password("rita", STRONG2)
    assert store.authenticate("rita", STRONG2).name == "rita"
    assert _events(db, "user.password_changed")[0].actor == "alice"
    assert _events(db, "user.unlocked")[0].entity_id == "rita"


def test_non_admins_are_refused_by_the_service_not_only_by_hidden_buttons(store):
    rita = AccountAdmin(store, UserSession(Actor("rita", Role.radiologist)))
    for call in (lambda: rita.accounts(), lambda: rita.change_role("alice", "therapist"),
                 lambda: rita.set_active("alice", False), lambda: rita.reset_password("alice", STRONG2),
                 lambda: rita.unlock("alice"), lambda: rita.add("eve", "admin", STRONG2)):
        with pytest.raises(PermissionDenied):
            call()
    assert store.get("alice").role is Role.admin and store.get("eve") is None


def test_sign_out_forgets_the_person_and_audits_who_left(db):
    session = UserSession(Actor("rita", Role.radiologist))
    assert sign_out(db, session, reason="switch user") == "rita"
    assert session.actor is None
    (event,) = _events(db, "user.logout")
    assert event.actor == "rita" and event.detail["reason"] == "switch user"
    assert sign_out(db, session) == ""  # nobody left to sign out: nothing audited
    assert len(_events(db, "user.logout")) == 1
