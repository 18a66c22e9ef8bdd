"""Permissions per role, checked in the domain: the role matrix and each service that enforces one.

Therapists see notes, not imaging; radiologists the reverse; only admins train, promote or roll
back models, manage users, read the audit trail and back up or restore.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from medstation.access.audit_query import AuditFilter, AuditTrail
from medstation.access.roles import Actor, NotSignedIn, Permission, Role, UserSession
from medstation.access.users import AccountStore
from medstation.errors import PermissionDenied

P = Permission
EXPECTED = {
    Role.therapist: {P.view_notes, P.edit_notes, P.sign_notes, P.use_chat},
    Role.radiologist: {P.view_imaging, P.edit_imaging, P.export_imaging, P.use_chat},
    Role.read_only: {P.view_imaging, P.view_notes, P.use_chat},
    Role.admin: set(Permission),
}
ADMIN_ONLY = {P.train_models, P.manage_models, P.manage_users, P.view_audit, P.backup_restore, P.manage_kb}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_matrix(role, permission):
    session = UserSession(Actor("someone", role))
    if permission in EXPECTED[role]:
        assert session.require(permission) == Actor("someone", role)
    else:
        with pytest.raises(PermissionDenied, match=f"may not {permission.value.replace('_', ' ')}"):
            session.require(permission)


def test_admin_only_permissions_belong_to_admins_alone():
    for role in Role:
        granted = {p for p in ADMIN_ONLY if Actor("x", role).can(p)}
        assert granted == (ADMIN_ONLY if role is Role.admin else set())


def test_nobody_signed_in_may_do_anything():
    for permission in Permission:
        with pytest.raises(NotSignedIn):
            UserSession().require(permission)


@pytest.fixture
def store(db):
    s = AccountStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    s.add_user("alice", Role.admin, "admin password")
    return s


@pytest.mark.parametrize("role", [Role.radiologist, Role.therapist, Role.read_only])
def test_manage_users_through_the_account_store(store, role):
    session = UserSession(Actor("x", role))
    with pytest.raises(PermissionDenied):
        store.add_user("bob", Role.therapist, "kettle drum 42", session=session)
    with pytest.raises(PermissionDenied):
        store.issue_token("alice", session=session)
    with pytest.raises(PermissionDenied):
        store.unlock("alice", session=session)
    with pytest.raises(PermissionDenied):
        store.set_active("alice", False, session=session)
    admin = UserSession(Actor("alice", Role.admin))
    assert store.add_user("bob", Role.therapist, "kettle drum 42", session=admin).name == "bob"


@pytest.mark.parametrize("role", [Role.radiologist, Role.therapist, Role.read_only])
def test_view_audit_through_the_audit_trail(db, role):
    db.audit("x", actor="a")
    with pytest.raises(PermissionDenied):
        AuditTrail(db, UserSession(Actor("x", role))).search(AuditFilter())
    with pytest.raises(PermissionDenied):
        AuditTrail(db, UserSession(Actor("x", role))).verify()
    assert [r.action for r in AuditTrail(db, UserSession(Actor("a", Role.admin))).search(AuditFilter())] == ["x"]
