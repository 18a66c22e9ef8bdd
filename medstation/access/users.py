"""Local accounts: argon2id password hashes, lockout, and tokens an admin issues.

Rules:
- On a data folder with no accounts, only an admin can be created (the first run);
  after that, adding users, issuing tokens and unlocking need ``Permission.manage_users``.
- ``LOCKOUT_THRESHOLD`` consecutive failed logins lock the account for
  ``LOCKOUT_MINUTES``; while locked even the right password is refused. A success resets the count.
- Tokens are 256-bit random secrets shown once; only their sha256 is stored
  (a hash is enough for a secret that long; passwords need argon2 because people choose them).
- Every login, success or failure, and every account change is an audit event.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import func, select

from medstation.access.password_policy import MIN_LENGTH, WeakPassword, check_password
from medstation.access.roles import Actor, Permission, Role, UserSession
from medstation.errors import PermissionDenied, UserFacingError
from medstation.store.database import Database
from medstation.store.tables import AccessToken, UserAccount

LOCKOUT_THRESHOLD = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_CHARS = MIN_LENGTH  # the full rules: medstation.access.password_policy
TOKEN_DAYS = 90
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class LoginFailed(UserFacingError):
    """Wrong name, password or token (the message never says which)."""


class AccountLocked(LoginFailed):
    """Too many failed logins; try again later or ask an admin to unlock."""


class AccountError(UserFacingError):
    """A bad account request: duplicate name, weak password, unknown role."""


@dataclass(frozen=True)
class AccountInfo:
    """An account without its secrets; times are UTC."""

    id: int
    name: str
    role: Role
    active: bool
    failed_attempts: int
    locked_until: Optional[datetime]
    created_at: datetime
    created_by: str
    last_login_at: Optional[datetime]

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: Optional[datetime]) -> Optional[datetime]:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _info(row: UserAccount) -> AccountInfo:
    return AccountInfo(int(row.id), row.name, Role(row.role), bool(row.active), int(row.failed_attempts),
                       _aware(row.locked_until), _aware(row.created_at), row.created_by, _aware(row.last_login_at))


def password_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's RFC 9106 low-memory defaults (t=3, 64 MiB, p=4); tests swap in a cheaper one."""
    return PasswordHasher()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def account_row(s, name: str) -> UserAccount:
    """The account row named ``name`` in session ``s``; AccountError when there is none."""
    row = s.exec(select(UserAccount).where(UserAccount.name == name)).first()
    if row is None:
        raise AccountError(f"No account named {name!r}.")
    return row


def other_active_admins(s, name: str) -> int:
    """Active admin accounts other than ``name``: the last one may not be demoted or deactivated."""
    return len(s.exec(select(UserAccount).where(UserAccount.role == Role.admin.value,
                                                 UserAccount.active == True,  # noqa: E712 (SQL expression)
                                                 UserAccount.name != name)).all())


class AccountStore:
    """Accounts in the app database. ``hasher`` and ``clock`` are injectable for tests."""

    def __init__(self, db: Database, *, hasher: PasswordHasher | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.hasher = hasher or password_hasher()
        self.clock = clock
        self._dummy: str | None = None

    def _dummy_hash(self) -> str:
        """A hash to verify against for unknown names, so the reply takes as long as for a real one."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("not a real password")
        return self._dummy

    # --- reading ---------------------------------------------------------------------------------

    def has_accounts(self) -> bool:
        with self.db.session() as s:
            return bool(s.exec(select(func.count()).select_from(UserAccount)).one())

    def accounts(self) -> list[AccountInfo]:
        with self.db.session() as s:
            return [_info(row) for row in s.exec(select(UserAccount).order_by(UserAccount.name)).all()]

    def get(self, name: str) -> AccountInfo | None:
        with self.db.session() as s:
            row = s.exec(select(UserAccount).where(UserAccount.name == name)).first()
            return _info(row) if row else None

    # --- changing --------------------------------------------------------------------------------

    def add_user(self, name: str, role: Role | str, password: str, *, session: UserSession | None = None) -> AccountInfo:
        """Create an account. With no accounts yet only an admin may be created (no session needed);
        otherwise ``session`` must hold ``manage_users``."""
        role = self._role(role)
        if self.has_accounts():
            if session is None:
                raise PermissionDenied("Accounts exist: sign in as an admin to add users.")
            creator = session.require(Permission.manage_users)
            created_by = creator.name
        else:
            if role is not Role.admin:
                raise AccountError("This data folder has no accounts yet: the first account must be an admin "
                                   "(role 'admin'); add the other accounts after it.")
            creator, created_by = None, "first-run"
        self._check_name(name)
        self._check_password(password, name)
        with self.db.session() as s:
            if s.exec(select(UserAccount).where(UserAccount.name == name)).first():
                raise AccountError(f"An account named {name!r} already exists.")
            row = UserAccount(name=name, role=role.value, password_hash=self.hasher.hash(password),
                              created_by=created_by, created_at=self.clock())
            s.add(row)
            s.flush()
            info = _info(row)
            self.db.audit("user.add", actor=creator or info.actor, entity="user_account", entity_id=info.id,
                          name=name, new_role=role.value, first_run=creator is None, session=s)
        return info

    def set_password(self, name: str, password: str, *, session: UserSession) -> None:
        """Admins reset anyone's password; a user may change their own."""
        actor = session.actor
        if actor is None or actor.name != name:
            actor = session.require(Permission.manage_users)
        self._check_password(password, name)
        with self.db.session() as s:
            row = account_row(s, name)
            row.password_hash = self.hasher.hash(password)
            row.failed_attempts, row.locked_until = 0, None
            s.add(row)
            self.db.audit("user.password_changed", actor=actor, entity="user_account", entity_id=name, session=s)

    def unlock(self, name: str, *, session: UserSession) -> None:
        actor = session.require(Permission.manage_users)
        with self.db.session() as s:
            row = account_row(s, name)
            row.failed_attempts, row.locked_until = 0, None
            s.add(row)
            self.db.audit("user.unlocked", actor=actor, entity="user_account", entity_id=name, session=s)

    def set_active(self, name: str, active: bool, *, session: UserSession) -> None:
        actor = session.require(Permission.manage_users)
        with self.db.session() as s:
            row = account_row(s, name)
            if not active and row.role == Role.admin.value and other_active_admins(s, name) == 0:
                raise AccountError("This is the last active admin; create another admin first.")
            row.active = active
            s.add(row)
            self.db.audit("user.enabled" if active else "user.disabled", actor=actor, entity="user_account",
                          entity_id=name, session=s)

    # --- signing in ------------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, *, via: str = "password") -> Actor:
        """The account's Actor if ``password`` is right; raises :class:`LoginFailed` / :class:`AccountLocked`."""
        now = self.clock()
        with self.db.session() as s:
            row = s.exec(select(UserAccount).where(UserAccount.name == name)).first()
            if row is None or not row.active:
                self._verify(self._dummy_hash(), password)  # same time as a real check: no name probing
                outcome, reason = "failed", "unknown or disabled account"
            elif _aware(row.locked_until) and _aware(row.locked_until) > now:
                outcome, reason = "locked", f"locked until {_aware(row.locked_until):%Y-%m-%d %H:%M} UTC"
            elif self._verify(row.password_hash, password):
                if self.hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self.hasher.hash(password)
                row.failed_attempts, row.locked_until, row.last_login_at = 0, None, now
                s.add(row)
                outcome, reason, actor = "ok", "", Actor(row.name, Role(row.role))
            else:
                row.failed_attempts += 1
                reason = f"wrong password (attempt {row.failed_attempts} of {LOCKOUT_THRESHOLD})"
                outcome = "failed"
                if row.failed_attempts >= LOCKOUT_THRESHOLD:
                    row.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                    row.failed_attempts = 0
                    reason += f"; locked for {LOCKOUT_MINUTES} minutes"
                s.add(row)
            role = row.role if row is not None else ""
            # the counters and their event commit together: no lockout step goes unrecorded
            if outcome == "ok":
                self.db.audit("user.login", actor=actor, entity="user_account", entity_id=name, via=via, session=s)
            else:
                self.db.audit("user.login_failed", actor=name or "anonymous", role=role, entity="user_account",
                              entity_id=name, via=via, reason=reason, session=s)
        if outcome == "ok":
            return actor
        if outcome == "locked":
            raise AccountLocked(f"The account {name!r} is locked after repeated failed logins; "
                                f"try again after {LOCKOUT_MINUTES} minutes or ask an admin to unlock it.")
        raise LoginFailed("Wrong user name or password.")

    def issue_token(self, name: str, *, session: UserSession, days: int = TOKEN_DAYS) -> str:
        """A new secret for ``name`` (shown once; only its sha256 is kept)."""
        actor = session.require(Permission.manage_users)
        token = "mst_" + secrets.token_urlsafe(32)
        with self.db.session() as s:
            row = account_row(s, name)
            s.add(AccessToken(user_id=row.id, token_sha256=token_digest(token), issued_by=actor.name,
                              issued_at=self.clock(), expires_at=self.clock() + timedelta(days=days)))
            self.db.audit("user.token_issued", actor=actor, entity="user_account", entity_id=name, days=days,
                          session=s)
        return token

    def authenticate_token(self, token: str) -> Actor:
        now = self.clock()
        with self.db.session() as s:
            found = s.exec(select(AccessToken, UserAccount).join(UserAccount, AccessToken.user_id == UserAccount.id)
                           .where(AccessToken.token_sha256 == token_digest(token))).first()
            if found is not None:
                tok, row = found
                usable = row.active and not tok.revoked and (tok.expires_at is None or _aware(tok.expires_at) > now)
                name, role = row.name, row.role
            else:
                usable, name, role = False, "", ""
        if usable:
            actor = Actor(name, Role(role))
            self.db.audit("user.login", actor=actor, entity="user_account", entity_id=name, via="token")
            return actor
        reason = "revoked or expired token or disabled account" if name else "unknown, revoked or expired token"
        self.db.audit("user.login_failed", actor=name or "anonymous", role=role, entity="user_account",
                      entity_id=name, via="token", reason=reason)
        raise LoginFailed("The token is not valid (unknown, revoked or expired).")

    # --- helpers ---------------------------------------------------------------------------------

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _role(role: Role | str) -> Role:
        try:
            return Role(role)
        except ValueError:
            raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}.") from None

    @staticmethod
    def _check_name(name: str) -> None:
        if not _NAME_RE.match(name or ""):
            raise AccountError("User names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")

    @staticmethod
    def _check_password(password: str, name: str = "") -> None:
        try:
            check_password(password, name)
        except WeakPassword as exc:
            raise AccountError(str(exc)) from None
