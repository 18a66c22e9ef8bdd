"""``medstation backup PATH`` and ``medstation restore PATH``: the whole store, verified by sha256.

Both need ``Permission.backup_restore`` (admins), signed in from the environment
against the store now in the data folder (single-user mode when it has no accounts).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("backup", help="online backup of the database, knowledge base, masks and models to a new folder")
    p.add_argument("path", help="new or empty folder to write the backup to")
    p.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="verify a backup folder against its manifest and restore it into the data folder")
    r.add_argument("path", help="a folder written by `medstation backup`")
    r.add_argument("--replace", action="store_true",
                   help="move the store now in the data folder aside (to replaced-<time>/) and restore over it")
    r.add_argument("--verify-only", action="store_true", help="only check the backup's hashes; change nothing")
    r.set_defaults(func=run_restore)


def _authorise(settings):
    """The admin actor for this data folder, or None when there is no store yet (a fresh machine)."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment
    from medstation.access.roles import Permission
    from medstation.access.encryption import open_database
    from medstation.errors import UserFacingError

    if settings.database_url:  # the clinic server is backed up on the server (docs/CLINIC.md), not from here
        raise UserFacingError("This workstation uses the clinic server (database_url): back it up there with "
                              "pg_dump plus the shared data root (docs/CLINIC.md); backup/restore are for a "
                              "single-workstation store.")
    if not settings.db_path.exists():
        return None
    db = open_database(settings.db_path)
    try:
        return session_from_environment(db).require(Permission.backup_restore)
    finally:
        db.close()


def run_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.backup import backup_store
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.access.encryption import open_database

    settings = Settings()
    try:
        actor = _authorise(settings)
        if actor is None:
            raise UserFacingError(f"There is no store to back up at {settings.home}.")
        db = open_database(settings.db_path)
        try:  # logged before the copy, so the backup carries its own event
            db.audit("store.backup", actor=actor, entity="folder", entity_id=str(Path(args.path).resolve()))
        finally:
            db.close()
        manifest = backup_store(settings.home, Path(args.path))
    except UserFacingError as exc:
        print(f"medstation backup: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"backed up {sum(manifest.table_rows.values())} records in {len(manifest.table_rows)} tables "
          f"and {len(manifest.files)} files to {args.path}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.backup import restore_store, verify_backup
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.access.encryption import open_database

    settings = Settings()
    try:
        if args.verify_only:
            manifest = verify_backup(Path(args.path))
            print(f"backup verified: database and {len(manifest.files)} files match the manifest")
            return 0
        actor = _authorise(settings)
        manifest = restore_store(Path(args.path), settings.home, replace=args.replace)
        db = open_database(settings.db_path)  # also brings an older backup's schema to head
        try:
            db.audit("store.restore", actor=actor or "", entity="folder", entity_id=str(Path(args.path).resolve()),
                     backup_created_at=manifest.created_at, files=len(manifest.files))
        finally:
            db.close()
    except UserFacingError as exc:
        print(f"medstation restore: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"restored {sum(manifest.table_rows.values())} records and {len(manifest.files)} files "
          f"from {args.path} into {settings.home}")
    return 0
