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
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from medstation.access.roles import Role, UserSession
from medstation.errors import UserFacingError
from medstation.store.database import Database

ENV_USER = "MEDSTATION_USER"
ENV_PASSWORD = "MEDSTATION_PASSWORD"
ENV_TOKEN_FILE = "MEDSTATION_TOKEN_FILE"


class AuthenticationRequired(UserFacingError):
    """Accounts exist and the environment names no one (or the wrong credentials)."""


def session_from_environment(db: Database, env: Mapping[str, str] | None = None, *,
                             stderr: TextIO | None = None) -> UserSession:
    """A signed-in :class:`UserSession` for a headless command, bound to ``db``'s audit trail."""
    from medstation.access.users import AccountStore

    env = os.environ if env is None else env
    stderr = stderr or sys.stderr
    store = AccountStore(db)
    if not store.has_accounts():
        session = UserSession.from_os_user(Role.admin)
        print(f"medstation: no user accounts in this data folder yet; single-user mode as "
              f"{session.actor.name!r} (admin). Create the admin with `medstation users add NAME --role admin` "
              "to require sign-in.", file=stderr)
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


def _refused(db: Database, name: str, message: str) -> AuthenticationRequired:
    """Audit a headless sign-in that named no usable credentials, and the error to raise."""
    db.audit("user.login_failed", actor=name, entity="user_account", entity_id=name, via="environment",
             reason=message)
    return AuthenticationRequired(message)


def bind_audit_actor(db: Database, session: UserSession) -> UserSession:
    """Events logged without an actor name the person signed in to ``session``."""
    db.audit_actor_source = lambda: session.actor
    return session
