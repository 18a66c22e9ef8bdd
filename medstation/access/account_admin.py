"""Account administration the Admin tab needs beyond :class:`~medstation.access.users.AccountStore`.

Kept apart from ``users.py`` (sign-in and the password rules live there): changing a role,
deactivating and reactivating an account, resetting a password and signing out. Each method
asks the session for ``manage_users`` itself (the widget hides buttons, the rule lives here),
runs one short transaction and appends an audit event naming the acting admin.

Rules:
- The last active admin can neither lose the admin role nor be deactivated (nobody could
  manage accounts afterwards); the message says to create another admin first.
- An admin cannot deactivate or demote their own account from the window: a slip would lock
  them out mid-session. Another admin does it.
- Signing out is audited as the person who leaves (``user.logout``), before the session forgets them.
"""

from __future__ import annotations

from medstation.access.roles import Permission, Role, UserSession
from medstation.access.users import AccountError, AccountInfo, AccountStore, account_row, other_active_admins


class AccountAdmin:
    """Role changes, (de)activation, unlock and password reset for ``manage_users`` holders."""

    def __init__(self, store: AccountStore, session: UserSession) -> None:
        self.store = store
        self.session = session

    @property
    def db(self):
        return self.store.db

    def accounts(self) -> list[AccountInfo]:
        """Every account without its secrets (admins only: the list names who may do what)."""
        self.session.require(Permission.manage_users)
        return self.store.accounts()

    def add(self, name: str, role: Role | str, password: str) -> AccountInfo:
        return self.store.add_user(name, role, password, session=self.session)

    def change_role(self, name: str, role: Role | str) -> AccountInfo:
        """Give ``name`` the role ``role``; audited as ``user.role_changed`` with the old and new role."""
        actor = self.session.require(Permission.manage_users)
        new = AccountStore._role(role)
        with self.db.session() as s:
            row = account_row(s, name)
            old = Role(row.role)
            if old is new:
                raise AccountError(f"{name} already has the role {new.value}.")
            if old is Role.admin:
                self._refuse_self(actor.name, name, "change your own role")
                if other_active_admins(s, name) == 0 and row.active:
                    raise AccountError("This is the last active admin; create another admin first.")
            row.role = new.value
            s.add(row)
            self.db.audit("user.role_changed", actor=actor, entity="user_account", entity_id=name,
                          old_role=old.value, new_role=new.value, session=s)
        return self.store.get(name)

    def set_active(self, name: str, active: bool) -> AccountInfo:
        """Deactivate (no sign-in, tokens refused) or reactivate ``name``; the store audits it."""
        actor = self.session.require(Permission.manage_users)
        if not active:
            self._refuse_self(actor.name, name, "deactivate your own account")
        self.store.set_active(name, active, session=self.session)
        return self.store.get(name)

    def unlock(self, name: str) -> AccountInfo:
        self.store.unlock(name, session=self.session)
        return self.store.get(name)

    def reset_password(self, name: str, password: str) -> AccountInfo:
        """A new password for ``name`` (the store checks its strength, clears a lockout and audits)."""
        self.session.require(Permission.manage_users)
        self.store.set_password(name, password, session=self.session)
        return self.store.get(name)

    @staticmethod
    def _refuse_self(actor_name: str, name: str, what: str) -> None:
        if actor_name == name:
            raise AccountError(f"You cannot {what} while signed in; another admin can.")



def audit_sign_out(db, actor, *, reason: str = "sign out") -> None:
    """Append ``user.logout`` for ``actor`` (an Actor); the caller has already signed them out of the session."""
    db.audit("user.logout", actor=actor, entity="user_account", entity_id=actor.name, reason=reason)


def sign_out(db, session: UserSession, *, reason: str = "sign out") -> str:
    """Forget the signed-in person and audit ``user.logout``; returns their name ('' if nobody)."""
    actor = session.actor
    if actor is None:
        return ""
    session.sign_out()  # first: nothing new acts as them, even if the audit append is slow
    audit_sign_out(db, actor, reason=reason)
    return actor.name
