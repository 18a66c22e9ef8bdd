"""``medstation db encrypt|status``: at-rest encryption of the data folder's database (SQLCipher).

``encrypt`` converts the plaintext store in place (verified by row counts and
``integrity_check`` before the swap; see :mod:`medstation.access.db_convert`) and
needs an admin (``Permission.backup_restore``), signed in from the environment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("db", help="database at-rest encryption: encrypt an existing store, show its state")
    db = p.add_subparsers(dest="db_command", required=True)

    enc = db.add_parser("encrypt", help="encrypt the plaintext database in place with SQLCipher (admin; close "
                                        "MedStation first)")
    enc.add_argument("--keyring", action="store_true",
                     help="keep a random key in the OS keyring instead of deriving it from a passphrase "
                          "(headless Linux usually has no keyring: then use the passphrase)")
    enc.add_argument("--keep-original", action="store_true",
                     help="keep the plaintext original as medstation.db.plaintext-<time> after verification "
                          "(default: delete it)")
    enc.set_defaults(func=run_encrypt)

    status = db.add_parser("status", help="name the engine (SQLite file or PostgreSQL server) and, for a file, "
                                          "whether it is encrypted and where its key comes from")
    status.set_defaults(func=run_status)

    migrate = db.add_parser("migrate", help="clinic server: bring the schema to this version's head, once per "
                                            "upgrade, as the owner role (the URL: --url or database_url)")
    migrate.add_argument("--url", default="", help="owner URL (default: the database_url setting)")
    migrate.add_argument("--app-role", default="", help="then grant this application role its rights (SELECT and "
                                                        "INSERT only on the audit trail)")
    migrate.set_defaults(func=run_migrate)

    copy = db.add_parser("copy", help="copy this workstation's store and files into an EMPTY clinic PostgreSQL "
                                      "database and shared root, verified (admin; docs/CLINIC.md)")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql+psycopg://USER:PASS@HOST:PORT/DB")
    copy.add_argument("--shared-root", type=Path, default=None,
                      help="the clinic's shared data folder (default: the shared_data_root setting)")
    copy.set_defaults(func=run_copy)


def _new_passphrase() -> str:
    import getpass
    import os

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.encryption import ENV_PASSPHRASE
    from medstation.errors import UserFacingError

    value = os.environ.get(ENV_PASSPHRASE)
    if value:
        return value
    if not sys.stdin.isatty():
        raise UserFacingError(f"Set {ENV_PASSPHRASE} or run in a terminal to be asked for the new passphrase.")
    first = getpass.getpass("New database passphrase: ")
    if getpass.getpass("Again: ") != first:
        raise UserFacingError("The two passphrases differ.")
    return first


def run_encrypt(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.db_convert import encrypt_store
    from medstation.access.encryption import database_key, keyring_unavailable_reason, open_database
    from medstation.access.headless import session_from_environment
    from medstation.access.roles import Permission
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.store.database import Database

    settings = Settings()
    try:
        if not settings.db_path.exists():
            raise UserFacingError(f"There is no database at {settings.db_path} yet; set MEDSTATION_DB_ENCRYPTION="
                                  "passphrase before the first start to create it encrypted.")
        db = open_database(settings.db_path)
        try:
            actor = session_from_environment(db).require(Permission.backup_restore)
            encrypted = db.encrypted
        finally:
            db.close()
        if encrypted:
            raise UserFacingError(f"{settings.db_path} is already encrypted.")
        use_keyring = bool(args.keyring)
        if use_keyring and keyring_unavailable_reason():
            print(f"medstation db: {keyring_unavailable_reason()}; using a passphrase instead.", file=sys.stderr)
            use_keyring = False
        passphrase = None if use_keyring else _new_passphrase()
        report = encrypt_store(settings.db_path, passphrase=passphrase, use_keyring=use_keyring,
                               keep_original=args.keep_original)
        db = Database(settings.db_path, key=database_key(settings.db_path, passphrase=passphrase))
        try:
            db.audit("store.encrypted", actor=actor, entity="database", entity_id=str(settings.db_path),
                     key_source=report.key_source, rows=sum(report.table_rows.values()))
        finally:
            db.close()
    except UserFacingError as exc:
        print(f"medstation db: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report.summary())
    return 0


def run_status(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.encryption import header_path, is_plaintext_sqlite, read_header
    from medstation.config import Settings
    from medstation.errors import UserFacingError

    settings = Settings()
    if settings.database_url:
        return _server_status(settings)
    try:
        header = read_header(settings.db_path)
    except UserFacingError as exc:
        print(f"medstation db: {exc}", file=sys.stderr)
        return exc.exit_code
    if not settings.db_path.exists():
        print(f"no database yet at {settings.db_path} (MEDSTATION_DB_ENCRYPTION={settings.db_encryption})")
    elif header is None:
        state = "plaintext SQLite" if is_plaintext_sqlite(settings.db_path) else "unreadable: no key header"
        print(f"{settings.db_path}: {state}, not encrypted")
    else:
        print(f"{settings.db_path}: encrypted with SQLCipher; key from the {header.key_source} "
              f"({header.kdf}); key header {header_path(settings.db_path)}")
    return 0


def _server_status(settings) -> int:
    from medstation.access.encryption import open_store
    from medstation.errors import UserFacingError
    from medstation.store.engine import describe

    try:
        db = open_store(settings, migrate=False)
    except UserFacingError as exc:
        print(f"medstation db: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        print(f"engine: {describe(db.engine)}")
        print(f"shared data root: {settings.shared_data_root or '(not set)'}; at rest the server relies on its "
              "disk encryption (SQLCipher is for single-workstation stores)")
    finally:
        db.close()
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from medstation.access.db_copy import copy_store
    from medstation.access.headless import session_from_environment
    from medstation.access.roles import Permission
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.store.database import Database

    settings = Settings()
    shared_root = args.shared_root or settings.shared_data_root
    try:
        if shared_root is None:
            raise UserFacingError("Name the clinic's shared data folder: --shared-root PATH or MEDSTATION_SHARED_DATA_ROOT.")
        if settings.database_url:
            raise UserFacingError("This workstation already uses the clinic server (database_url is set); db copy "
                                  "copies a workstation's own SQLite store.")
        if not settings.db_path.exists():
            raise UserFacingError(f"There is no store at {settings.db_path} to copy.")
        db = Database(settings.db_path)
        try:
            actor = session_from_environment(db).require(Permission.backup_restore)
        finally:
            db.close()
        report = copy_store(settings.home, settings.db_path, args.to, Path(shared_root))
    except UserFacingError as exc:
        print(f"medstation db: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report.summary())
    if not report.ok:
        return 1
    target = Database(args.to, anchor_root=Path(shared_root))
    try:
        target.audit("store.copied", actor=actor, entity="database", entity_id=report.target,
                     source=report.source, rows=sum(a for a, _ in report.rows.values()), files=report.files)
    finally:
        target.close()
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.store.database import upgrade_to_head
    from medstation.store.engine import make_server_engine, safe_url
    from medstation.store.server_roles import apply_grants, head_revision, schema_revision

    url = args.url or Settings().database_url
    try:
        if not url:
            raise UserFacingError("db migrate is for the clinic server: give --url or set database_url "
                                  "(a workstation's own SQLite store migrates itself on open).")
        engine = make_server_engine(url)
        try:
            before = schema_revision(engine)
            upgrade_to_head(engine)
            if args.app_role:
                apply_grants(engine, args.app_role)
        finally:
            engine.dispose()
    except UserFacingError as exc:
        print(f"medstation db: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"{safe_url(url)}: schema {before or '(empty)'} -> {head_revision()}"
          + (f"; role {args.app_role}: tables granted, audit_event SELECT and INSERT only" if args.app_role else ""))
    return 0
