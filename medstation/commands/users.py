"""``medstation users add|token|list|unlock|passwd``: local accounts.

``users add`` on a data folder with no accounts is the one unauthenticated
command and may only create an admin; every other use signs in from the
environment (see :mod:`medstation.access.headless`).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("users", help="local user accounts: add, issue tokens, list, unlock")
    users = p.add_subparsers(dest="users_command", required=True)

    add = users.add_parser("add", help="create an account (the first one must be an admin)")
    add.add_argument("name", help="user name (letters, digits, '.', '_', '-')")
    add.add_argument("--role", required=True, choices=["radiologist", "therapist", "admin", "read_only"],
                     help="what the account may do")
    add.set_defaults(func=run_add)

    token = users.add_parser("token", help="issue a token for headless use (admin only), written to FILE")
    token.add_argument("name", help="the account the token signs in as")
    token.add_argument("--out", required=True, help="file to write the token to (created with mode 600)")
    token.add_argument("--days", type=int, default=90, help="days until the token expires (default 90)")
    token.set_defaults(func=run_token)

    lst = users.add_parser("list", help="list accounts with role and lock state (admin only)")
    lst.set_defaults(func=run_list)

    unlock = users.add_parser("unlock", help="clear a lockout after repeated failed logins (admin only)")
    unlock.add_argument("name", help="the locked account")
    unlock.set_defaults(func=run_unlock)

    passwd = users.add_parser("passwd", help="set a password (your own, or anyone's as admin); "
                                             "the new one comes from MEDSTATION_NEW_PASSWORD or a prompt")
    passwd.add_argument("name", help="the account")
    passwd.set_defaults(func=run_passwd)


def _open():
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.users import AccountStore
    from medstation.config import Settings
    from medstation.access.encryption import open_database, open_store

    settings = Settings()
    settings.ensure_dirs()
    db = open_store(settings, encrypt_new=settings.db_encryption)  # the first command on a new folder
    return db, AccountStore(db)


def _password(env_name: str, prompt: str) -> str:
    import getpass
    import os

    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        # lazy: a command's handler loads its services only when it runs (--help stays light)
        from medstation.errors import UserFacingError

        raise UserFacingError(f"Set {env_name} or run in a terminal to be asked for the password.")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        from medstation.errors import UserFacingError

        raise UserFacingError("The two passwords differ.")
    return first


def _guard(fn):
    def wrapped(args: argparse.Namespace) -> int:
        # lazy: a command's handler loads its services only when it runs (--help stays light)
        from medstation.errors import UserFacingError

        try:
            return fn(args)
        except UserFacingError as exc:
            print(f"medstation users: {exc}", file=sys.stderr)
            return exc.exit_code
    return wrapped


@_guard
def run_add(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment

    db, store = _open()
    try:
        if store.has_accounts():
            # MEDSTATION_PASSWORD signs the admin in here, so the new account's password has its own variable
            session = session_from_environment(db)
            password = _password("MEDSTATION_NEW_PASSWORD", f"Password for {args.name}: ")
            info = store.add_user(args.name, args.role, password, session=session)
        else:
            password = _password("MEDSTATION_PASSWORD", f"Password for {args.name}: ")
            info = store.add_user(args.name, args.role, password)
        print(f"created {info.name} ({info.role.value})")
        return 0
    finally:
        db.close()


@_guard
def run_token(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment

    db, store = _open()
    try:
        session = session_from_environment(db)
        token = store.issue_token(args.name, session=session, days=args.days)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        print(f"token for {args.name} written to {out} (expires in {args.days} days); "
              f"use it with MEDSTATION_TOKEN_FILE={out}")
        return 0
    finally:
        db.close()


@_guard
def run_list(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment
    from medstation.access.roles import Permission

    db, store = _open()
    try:
        session_from_environment(db).require(Permission.manage_users)
        for info in store.accounts():
            state = "active" if info.active else "disabled"
            if info.locked_until:
                state += f", locked until {info.locked_until:%Y-%m-%d %H:%M} UTC"
            print(f"{info.name}\t{info.role.value}\t{state}")
        return 0
    finally:
        db.close()


@_guard
def run_unlock(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment

    db, store = _open()
    try:
        store.unlock(args.name, session=session_from_environment(db))
        print(f"unlocked {args.name}")
        return 0
    finally:
        db.close()


@_guard
def run_passwd(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment

    db, store = _open()
    try:
        session = session_from_environment(db)
        store.set_password(args.name, _password("MEDSTATION_NEW_PASSWORD", f"New password for {args.name}: "),
                           session=session)
        print(f"password changed for {args.name}")
        return 0
    finally:
        db.close()
