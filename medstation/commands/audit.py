"""``medstation audit verify|export``: check and export the hash-chained audit trail.

``verify`` exits 0 when the chain is intact and agrees with its anchor outside the database
(the signed checkpoint file, :mod:`medstation.store.audit_anchor`), and 1 naming the first bad event.
Both need ``Permission.view_audit`` (admins), signed in from the environment.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager


def add_parser(sub) -> None:
    p = sub.add_parser("audit", help="verify or export the audit trail (admin)")
    audit = p.add_subparsers(dest="audit_command", required=True)

    verify = audit.add_parser("verify", help="recompute the hash chain; exit 0 if intact, 1 naming the first bad event")
    verify.set_defaults(func=run_verify)

    export = audit.add_parser("export", help="write events since a date as CSV or JSON for compliance review")
    export.add_argument("--since", required=True, help="first day (or time) to include, ISO format: 2026-12-01")
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="file format (default csv)")
    export.add_argument("--out", required=True, help="file to write")
    export.set_defaults(func=run_export)


def _signed_in_db():
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment
    from medstation.access.roles import Permission
    from medstation.config import Settings
    from medstation.access.encryption import open_database, open_store

    settings = Settings()
    settings.ensure_dirs()
    db = open_store(settings)
    try:
        actor = session_from_environment(db).require(Permission.view_audit)
    except BaseException:
        db.close()
        raise
    return db, actor


@contextmanager
def _sqlite_connection(db):
    """The database's own sqlite3 connection (the chain is read below the ORM), returned to the pool after."""
    raw = db.engine.raw_connection()
    try:
        yield raw.driver_connection
    finally:
        raw.close()


def run_verify(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.errors import UserFacingError
    from medstation.store.audit_chain import verify_chain

    try:
        db, _actor = _signed_in_db()
    except UserFacingError as exc:
        print(f"medstation audit: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        with _sqlite_connection(db) as conn:
            report = verify_chain(conn, anchor=db.anchor)  # also the checkpoints outside the database
        print(report.summary())
        return 0 if report.intact else 1
    finally:
        db.close()


def run_export(args: argparse.Namespace) -> int:
    from datetime import datetime
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.errors import UserFacingError
    from medstation.store.audit_chain import export_events, read_events

    try:
        since = datetime.fromisoformat(args.since)
    except ValueError:
        print(f"medstation audit: --since {args.since!r} is not an ISO date such as 2026-12-01", file=sys.stderr)
        return 2
    try:
        db, actor = _signed_in_db()
    except UserFacingError as exc:
        print(f"medstation audit: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        with _sqlite_connection(db) as conn:
            events = read_events(conn, since=since.strftime("%Y-%m-%d %H:%M:%S"))
        out = Path(args.out)
        count = export_events(events, out, args.format)
        db.audit("audit.export", actor=actor, entity="file", entity_id=str(out), since=args.since,
                 format=args.format, events=count)
        print(f"wrote {count} events since {args.since} to {out}")
        return 0
    finally:
        db.close()
