"""Which engine the store runs on: an SQLite file (one workstation) or a PostgreSQL server (a clinic).

The tables and Alembic migrations are the same on both. What differs is how a writer
serialises itself against other processes:

- SQLite: ``BEGIN IMMEDIATE`` takes the file's one write lock.
- PostgreSQL: ``pg_advisory_xact_lock(key)`` takes a named lock held until the
  transaction ends (commit or rollback), so two workstations appending to the audit
  chain, or promoting models, run one after the other; READ COMMITTED then gives the
  second one a fresh snapshot for each statement, so it reads what the first committed.

A server URL is ``postgresql+psycopg://USER:PASS@HOST:PORT/DB`` (psycopg 3). When HOST is
not loopback the connection requires TLS (``sslmode=require``) unless the URL names a
stricter mode. A server that cannot be reached is a :class:`ServerUnreachable` with a
plain sentence; nothing ever falls back to a local file (that would split the record).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

from medstation.errors import UserFacingError

SERVER_DRIVER = "postgresql+psycopg"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", ""})
# Advisory lock keys (any 64-bit integers, fixed so every workstation uses the same ones).
AUDIT_LOCK = 0x4D53_0001  # appends to the audit chain
WRITE_LOCK = 0x4D53_0002  # read-modify-write units (Database.write_session: promote, rollback, run claims)
CONNECT_TIMEOUT_S = 5


class ServerUnreachable(UserFacingError):
    """The clinic database server did not answer; the message says which server and why."""


def is_server_url(location: Any) -> bool:
    """True for a PostgreSQL URL (a str starting ``postgresql``), False for a file path."""
    return isinstance(location, str) and location.startswith("postgresql")


def is_postgres(bind: Any) -> bool:
    """True when an Engine, Connection or Session's bind talks to PostgreSQL."""
    return getattr(getattr(bind, "dialect", None), "name", "") == "postgresql"


def is_psycopg(dbapi_object: Any) -> bool:
    """True for a psycopg (PostgreSQL) DB-API connection or cursor, False for sqlite3/sqlcipher3."""
    return type(dbapi_object).__module__.startswith("psycopg")


def sql_for(cur: Any, statement: str) -> str:
    """``statement`` written with ``?`` placeholders, in the cursor's own paramstyle (psycopg: ``%s``)."""
    return statement.replace("?", "%s") if is_psycopg(cur) else statement


def safe_url(url: str) -> str:
    """The URL with its password hidden, fit for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def server_connect_args(url: str) -> dict[str, Any]:
    """psycopg connection arguments for ``url``: TLS required off loopback, UTC sessions, a short timeout."""
    parsed = make_url(url)
    if parsed.drivername != SERVER_DRIVER:
        raise UserFacingError(f"database_url must start with {SERVER_DRIVER}:// (psycopg 3), not {parsed.drivername}://")
    args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "medstation",
                            # audit timestamps are hashed as UTC text: every session reads and writes UTC
                            "options": "-c timezone=UTC"}
    if (parsed.host or "") not in LOOPBACK_HOSTS and "sslmode" not in parsed.query:
        args["sslmode"] = "require"  # patient data never crosses the network in clear text
    return args


def make_server_engine(url: str) -> Engine:
    """A pooled engine on the PostgreSQL server at ``url``; raises :class:`ServerUnreachable` if it does not answer."""
    engine = create_engine(url, connect_args=server_connect_args(url), pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise ServerUnreachable(unreachable_message(url, exc)) from exc
    return engine


def unreachable_message(url: str, exc: BaseException) -> str:
    parsed = make_url(url)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"Cannot reach the clinic database server {parsed.host}:{parsed.port or 5432} "
            f"(database {parsed.database}): {reason}. MedStation does not fall back to a local store, so that "
            "no record is split between machines; check the network and the server, or ask the clinic admin.")


def row_lock_key(table: str, row_id: int) -> int:
    """An advisory lock key for one row (e.g. one note), so writers of different rows never wait on each other."""
    import zlib

    return ((zlib.crc32(table.encode()) & 0x7FFF_FFFF) << 32) | (int(row_id) & 0xFFFF_FFFF)


def lock_for_write(sa_connection, key: int = WRITE_LOCK) -> None:
    """Serialise this transaction against every other writer (first statement of the transaction on SQLite)."""
    if is_postgres(sa_connection):
        sa_connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")
    else:
        sa_connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_write_dbapi(cur, key: int = WRITE_LOCK) -> None:
    """:func:`lock_for_write` on a raw DB-API cursor (psycopg opens the transaction by itself)."""
    if is_psycopg(cur):
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (int(key),))
    else:
        cur.execute("BEGIN IMMEDIATE")


def describe(engine: Engine) -> str:
    """One line naming the engine and, for a server, where it is and its version."""
    if not is_postgres(engine):
        return f"SQLite file {engine.url.database}"
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        ssl = conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
        user = conn.execute(text("SELECT current_user")).scalar()
    url = engine.url
    return (f"PostgreSQL {version} at {url.host}:{url.port or 5432}, database {url.database}, role {user}, "
            f"TLS {'on' if ssl else 'off'}")
