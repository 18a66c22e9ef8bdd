"""Who a headless command acts as.

The rule (also in README "Accounts"):

- **No accounts yet** in this data folder: single-user mode. The command runs as the
  OS login name with the admin role and says so on stderr. This keeps a fresh
  install (and every test that starts from an empty ``MEDSTATION_HOME``) usable;
  the first ``medstation users add NAME --role admin`` ends it.
- **Any account exists**: authentication is required, with ``MEDSTATION_TOKEN_FILE``
  (a token an admin issued with ``medstation users token``) or ``MEDSTATION_USER``
  + ``MEDSTATION_PASSWORD``. Anything else fails with a :class:`UserFacingError`
  (exit code 2) and the failed login is audited.

The command line signs in once, in :func:`command_sign_in` (called by ``cli.main`` for
every subcommand, with the permission ``cli.COMMAND_ACCESS`` names for it); a command
that then builds its services gets that same session from :func:`session_from_environment`
instead of signing in again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TextIO

from medstation.access.encryption import open_database
from medstation.access.roles import Access, Actor, Permission, Role, UserSession
from medstation.access.users import AccountStore
from medstation.errors import UserFacingError
from medstation.store.audit_anchor import AuditAnchor
from medstation.store.database import Database
from medstation.store.engine import is_server_url

ENV_USER = "MEDSTATION_USER"
ENV_PASSWORD = "MEDSTATION_PASSWORD"
ENV_TOKEN_FILE = "MEDSTATION_TOKEN_FILE"
ENV_WORKER_TICKET = "MEDSTATION_WORKER_TICKET"
ANONYMOUS = "anonymous"  # the actor of a failed sign-in that named no one

#: The actor the command line signed in for the command now running (set by :func:`command_sign_in`).
_ENTRY_ACTOR: ContextVar[Actor | None] = ContextVar("medstation_entry_actor", default=None)


class AuthenticationRequired(UserFacingError):
    """Accounts exist and the environment names no one (or the wrong credentials)."""


def session_from_environment(db: Database, env: Mapping[str, str] | None = None, *,
                             stderr: TextIO | None = None) -> UserSession:
    """A signed-in :class:`UserSession` for a headless command, bound to ``db``'s audit trail."""
    entry = _ENTRY_ACTOR.get()
    if entry is not None:  # the command line already signed this command in
        return bind_audit_actor(db, UserSession(entry))
    env = os.environ if env is None else env
    stderr = stderr or sys.stderr
    store = AccountStore(db)
    if not store.has_accounts():
        session = UserSession.from_os_user(Role.admin)
        _say_single_user(session.actor, stderr)
        return bind_audit_actor(db, session)
    token_file = env.get(ENV_TOKEN_FILE, "").strip()
    user = env.get(ENV_USER, "").strip()
    if token_file:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise _refused(db, "", f"Cannot read {ENV_TOKEN_FILE}={path}: {exc.strerror or exc}.") from None
        actor = store.authenticate_token(token)
    elif user:
        password = env.get(ENV_PASSWORD, "")
        if not password:
            raise _refused(db, user, f"{ENV_USER} is set but {ENV_PASSWORD} is not.")
        actor = store.authenticate(user, password)
    else:
        raise _refused(db, "",
            f"This data folder has user accounts: set {ENV_USER} and {ENV_PASSWORD}, "
            f"or {ENV_TOKEN_FILE} to a token file from `medstation users token NAME --out FILE`.")
    return bind_audit_actor(db, UserSession(actor))


def _say_single_user(actor: Actor, stderr: TextIO) -> None:
    print(f"medstation: no user accounts in this data folder yet; single-user mode as "
          f"{actor.name!r} (admin). Create the admin with `medstation users add NAME --role admin` "
          "to require sign-in.", file=stderr)


def _refused(db: Database, name: str, message: str) -> AuthenticationRequired:
    """Audit a headless sign-in that named no usable credentials, and the error to raise."""
    db.audit("user.login_failed", actor=name or ANONYMOUS, entity="user_account", entity_id=name,
             via="environment", reason=message)
    return AuthenticationRequired(message)


def bind_audit_actor(db: Database, session: UserSession) -> UserSession:
    """Events logged without an actor name the person signed in to ``session``; its refusals are audited."""
    db.audit_actor_source = lambda: session.actor
    session.on_denied = lambda actor, permission, reason: record_denial(db, actor, permission, reason)
    return session


def record_denial(db: Database, actor: Actor | None, permission: Permission, reason: str) -> None:
    """One ``access.denied`` event: who (or ``anonymous``) was refused which permission, and why."""
    db.audit("access.denied", actor=actor or ANONYMOUS, entity="permission", entity_id=permission.value,
             reason=reason)


# --- the command line's one sign-in ----------------------------------------------------------------


@contextmanager
def command_sign_in(command: Sequence[str], need: Permission | str, argv: Sequence[str], *,
                    db_path: Path, env: Mapping[str, str] | None = None,
                    stderr: TextIO | None = None) -> Iterator[Actor | None]:
    """Sign in for one run of ``command`` (its parser path, e.g. ``("kb", "query")``) and check ``need``.

    Once the data folder has accounts, every command needs credentials from the environment and the
    permission ``need``; a refusal is audited and raised as a :class:`UserFacingError` (exit 2). The
    only exceptions: the first ``users add`` (its service allows only an admin), the window (it signs
    in in its own dialog), and child workers, which carry a ticket from the process that started them.
    Without accounts (or without a store yet) the command runs in single-user mode as the OS user.
    """
    env = os.environ if env is None else env
    stderr = stderr or sys.stderr
    if need == Access.WINDOW:
        yield None
        return
    if not is_server_url(db_path) and not Path(db_path).exists():  # a fresh data folder: no accounts can exist
        if need in (Access.WORKER, Access.FIRST_RUN_OR_ADMIN):
            yield None
            return
        actor = UserSession.from_os_user(Role.admin).actor
        _say_single_user(actor, stderr)
        with _entry_actor(actor):
            yield actor
        return
    actor = _authorise(command, need, argv, db_path=db_path if is_server_url(db_path) else Path(db_path), env=env,
                       stderr=stderr)
    with _entry_actor(actor):
        yield actor


@contextmanager
def _entry_actor(actor: Actor | None) -> Iterator[None]:
    token = _ENTRY_ACTOR.set(actor)
    try:
        yield
    finally:
        _ENTRY_ACTOR.reset(token)


def _authorise(command: Sequence[str], need: Permission | str, argv: Sequence[str], *, db_path: Path,
               env: Mapping[str, str], stderr: TextIO) -> Actor | None:
    db = _open_store(db_path)
    try:
        if not AccountStore(db).has_accounts():
            if need in (Access.WORKER, Access.FIRST_RUN_OR_ADMIN):
                return None
            return session_from_environment(db, env, stderr=stderr).actor
        if need == Access.WORKER:
            _check_worker_ticket(db, command, argv, env)
            return None
        session = session_from_environment(db, env, stderr=stderr)
        if need == Access.FIRST_RUN_OR_ADMIN:
            need = Permission.manage_users
        if isinstance(need, Permission):
            return session.require(need)  # a refusal is audited by the session's recorder
        if need == Access.ANY_ROLE:
            return session.actor
        raise ValueError(f"unknown access rule {need!r} for {' '.join(command)}")
    finally:
        db.close()


def _open_store(db_path) -> Database:
    """The data folder's file, or the clinic server (``database_url``: accounts live there, never locally)."""
    if is_server_url(db_path):
        from medstation.config import Settings

        settings = Settings()
        return Database(db_path, anchor_root=settings.shared_data_root or settings.home, migrate=False)
    return open_database(db_path)


# --- child workers -----------------------------------------------------------------------------------


def worker_ticket(key: bytes, argv: Sequence[str]) -> str:
    """HMAC-SHA256 over a worker's argument list with the store's anchor key (never stored anywhere)."""
    return hmac.new(key, ("worker\0" + "\0".join(argv)).encode("utf-8"), hashlib.sha256).hexdigest()


def worker_ticket_env(db_path: Path, argv: Sequence[str]) -> dict[str, str]:
    """The environment a parent gives a child worker so it may run ``argv`` on the store at ``db_path``.

    The parent has signed in (the window or a command); the ticket lets the child run exactly this
    argument list, nothing else. Empty when the store has no anchor key yet (then it has no accounts).
    """
    key = AuditAnchor(Path(db_path)).key()
    return {ENV_WORKER_TICKET: worker_ticket(key, argv)} if key is not None else {}


def _check_worker_ticket(db: Database, command: Sequence[str], argv: Sequence[str], env: Mapping[str, str]) -> None:
    key = db.anchor.key()
    ticket = env.get(ENV_WORKER_TICKET, "").strip()
    if key is not None and ticket and hmac.compare_digest(ticket, worker_ticket(key, argv)):
        return
    message = (f"`{' '.join(command)}` is a worker that MedStation starts itself; it needs the ticket its parent "
               f"passes in {ENV_WORKER_TICKET}" + (" (the one given does not match)" if ticket else "") + ".")
    db.audit("access.denied", actor=ANONYMOUS, entity="command", entity_id=" ".join(command), reason=message)
    raise AuthenticationRequired(message)


def bind_worker_actor(db: Database, requested_by: str) -> Actor | None:
    """A worker's events name the person who started its run (with their account's role, when they have one)."""
    if not requested_by:
        return None
    info = AccountStore(db).get(requested_by)
    # no account of that name: the run was queued in single-user mode, where the OS user acts as admin
    actor = Actor(requested_by, info.role if info is not None else Role.admin)
    db.audit_actor_source = lambda: actor
    return actor
