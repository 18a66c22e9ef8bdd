"""Accounts: argon2 hashes, the first-run admin rule, lockout, tokens, and audited logins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import (LOCKOUT_THRESHOLD, AccountError, AccountLocked, AccountStore, LoginFailed,
                                     token_digest)
from medstation.errors import PermissionDenied
from medstation.store.tables import AccessToken, AuditEvent, UserAccount

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(db, clock):
    return AccountStore(db, hasher=FAST, clock=clock)


@pytest.fixture
def admin_session(store):
    store.add_user("alice", Role.admin, "correct horse")
    return UserSession(Actor("alice", Role.admin))


def _events(db, action):
    with db.session() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_first_account_must_be_admin(store):
    with pytest.raises(AccountError, match="must be an admin"):
        store.add_user("bob", Role.therapist, "kettle drum 42")
    assert not store.has_accounts()
    info = store.add_user("alice", Role.admin, "correct horse")
    assert info.role is Role.admin and store.has_accounts()


def test_password_is_stored_as_argon2id_hash_only(db, store, admin_session):
    with db.session() as s:
        row = s.exec(select(UserAccount)).one()
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash


def test_after_first_run_adding_users_needs_manage_users(store, admin_session):
    with pytest.raises(PermissionDenied):
        store.add_user("bob", Role.therapist, "kettle drum 42")  # no session
    with pytest.raises(PermissionDenied):
        store.add_user("bob", Role.therapist, "kettle drum 42", session=UserSession(Actor("t", Role.therapist)))
    info = store.add_user("bob", Role.therapist, "kettle drum 42", session=admin_session)
    assert info.role is Role.therapist and info.created_by == "alice"


def test_duplicate_name_and_short_password_are_refused(store, admin_session):
    with pytest.raises(AccountError, match="already exists"):
        store.add_user("alice", Role.admin, "kettle drum 43", session=admin_session)
    with pytest.raises(AccountError, match="at least"):
        store.add_user("carol", Role.radiologist, "short", session=admin_session)
    with pytest.raises(AccountError, match="User names"):
        store.add_user("../evil", Role.radiologist, "kettle drum 42", session=admin_session)


def test_login_success_and_failure_are_audited(db, store, admin_session):
    assert store.authenticate("alice", "correct horse") == Actor("alice", Role.admin)
    with pytest.raises(LoginFailed, match="Wrong user name or password"):
        store.authenticate("alice", "wrong")
    with pytest.raises(LoginFailed, match="Wrong user name or password"):
        store.authenticate("nobody", "wrong")
    ok = _events(db, "user.login")
    failed = _events(db, "user.login_failed")
    assert [(e.actor, e.role) for e in ok] == [("alice", "admin")]
    assert [(e.actor, e.detail["reason"][:5]) for e in failed] == [("alice", "wrong"), ("nobody", "unkno")]


def test_lockout_after_repeated_failures_then_expiry(db, store, admin_session, clock):
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises(LoginFailed):
            store.authenticate("alice", "wrong")
    with pytest.raises(AccountLocked):
        store.authenticate("alice", "correct horse")  # even the right password, while locked
    clock.now += timedelta(minutes=16)
    assert store.authenticate("alice", "correct horse").name == "alice"
    assert store.get("alice").failed_attempts == 0
    assert _events(db, "user.login_failed")[-1].detail["reason"].startswith("locked until")


def test_admin_unlocks(store, admin_session):
    store.add_user("bob", Role.radiologist, "kettle drum 42", session=admin_session)
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises(LoginFailed):
            store.authenticate("bob", "nope")
    with pytest.raises(AccountLocked):
        store.authenticate("bob", "kettle drum 42")
    with pytest.raises(PermissionDenied):
        store.unlock("bob", session=UserSession(Actor("bob", Role.radiologist)))
    store.unlock("bob", session=admin_session)
    assert store.authenticate("bob", "kettle drum 42").role is Role.radiologist


def test_token_is_stored_hashed_and_signs_in(db, store, admin_session, clock):
    store.add_user("bob", Role.radiologist, "kettle drum 42", session=admin_session)
    token = store.issue_token("bob", session=admin_session, days=1)
    with db.session() as s:
        stored = s.exec(select(AccessToken)).one()
    assert stored.token_sha256 == token_digest(token) and token not in stored.token_sha256
    assert store.authenticate_token(token + "\n") == Actor("bob", Role.radiologist)
    with pytest.raises(LoginFailed):
        store.authenticate_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    clock.now += timedelta(days=2)
    with pytest.raises(LoginFailed, match="expired"):
        store.authenticate_token(token)


def test_only_admins_issue_tokens(store, admin_session):
    store.add_user("bob", Role.radiologist, "kettle drum 42", session=admin_session)
    with pytest.raises(PermissionDenied):
        store.issue_token("bob", session=UserSession(Actor("bob", Role.radiologist)))


def test_disabled_account_cannot_sign_in_and_last_admin_stays(store, admin_session):
    store.add_user("bob", Role.therapist, "kettle drum 42", session=admin_session)
    store.set_active("bob", False, session=admin_session)
    with pytest.raises(LoginFailed):
        store.authenticate("bob", "kettle drum 42")
    with pytest.raises(AccountError, match="last active admin"):
        store.set_active("alice", False, session=admin_session)


def test_users_change_own_password_not_others(store, admin_session):
    store.add_user("bob", Role.therapist, "kettle drum 42", session=admin_session)
    bob = UserSession(Actor("bob", Role.therapist))
    store.set_password("bob", "fresh kettle 7", session=bob)
    assert store.authenticate("bob", "fresh kettle 7").name == "bob"
    with pytest.raises(PermissionDenied):
        store.set_password("alice", "hijacked!!", session=bob)
