"""Engine, migrations and short sessions.

SQLite runs in WAL mode (readers never block the writer) with
``synchronous=FULL`` because a lost commit here is lost clinical work (an
accepted mask, a signed note). The schema is always brought to Alembic's head
on open, so an old database file upgrades in place.

Sessions are short and owned by one job: open with :meth:`Database.session`,
do the work, leave. Pass ids or plain values between threads, never ORM rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from medstation.store import tables  # noqa: F401  (registers every table on SQLModel.metadata)
from medstation.store.audit_anchor import AuditAnchor
from medstation.store.audit_chain import append_event, append_in_transaction, read_head
from medstation.store.server_roles import require_head
from medstation.store.sqlcipher import KeyRequired, cipher_dbapi, connect, is_plaintext_sqlite
from medstation.store.engine import (AUDIT_LOCK, WRITE_LOCK, begin_write_dbapi, is_server_url, lock_for_write,
                                     make_server_engine)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _set_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(db_path: Path, key: bytes | None = None) -> Engine:
    """A pooled engine on ``db_path``; with ``key``, every connection is a keyed SQLCipher one.

    The encrypted engine keeps the file URL (so SQLAlchemy pools as for any file) but
    connects through a creator on the sqlcipher3 DB-API, passed as ``module`` so its
    exceptions are wrapped like sqlite3's (IntegrityError stays IntegrityError).
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if key is None:
        engine = create_engine(f"sqlite:///{db_path}", connect_args={"check_same_thread": False})
    else:
        engine = create_engine(f"sqlite:///{db_path}", module=cipher_dbapi(),
                               creator=lambda: connect(db_path, key, check_same_thread=False))
    event.listen(engine, "connect", _set_pragmas)
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", str(engine.url))
    cfg.attributes["engine"] = engine
    return cfg


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]+|None)['\"]?\s*$", re.M)


def head_from_files() -> str | None:
    """The head revision read from the migration files' ``revision`` / ``down_revision`` lines (no Alembic
    import: a second of a cold start); None when they are not one plain chain (then Alembic decides)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        parents.add(found.get("down_revision", "None"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to Alembic's head. A store already there (every start but the first after an
    install or upgrade) is checked with one query, without loading Alembic."""
    from medstation.store.server_roles import schema_revision

    head = head_from_files()
    if head is not None and schema_revision(engine) == head:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


class Database:
    """The app's one database: created once in ``app.py`` and handed to services."""

    def __init__(self, db_path: Path | str, *, migrate: bool = True, key: bytes | None = None,
                 anchor_root: Path | None = None) -> None:
        """``db_path``: the SQLite file, or a ``postgresql+psycopg://`` URL (then ``anchor_root`` holds the
        audit anchor, shared by every workstation). ``key``: the SQLCipher key, None for a plaintext store.
        The composition root finds it (:func:`medstation.access.encryption.open_database`); the store never
        asks for one.
        """
        if is_server_url(db_path):  # clinic mode (medstation.store.engine): no local file, never a fallback
            self.path, self.encrypted = None, False
            self.engine = make_server_engine(db_path)
            if migrate:  # on a server: check only; the admin migrates once (medstation db migrate)
                try:
                    require_head(self.engine)
                except BaseException:
                    self.engine.dispose()
                    raise
            self.anchor = AuditAnchor(Path(anchor_root or ".") / f"clinic-{self.engine.url.database}")
            self._ensure_anchor()
            return
        self.path = db_path = Path(db_path)
        if key is None and db_path.exists() and db_path.stat().st_size and not is_plaintext_sqlite(db_path):
            raise KeyRequired(f"{db_path} is encrypted: open it with its key "
                              "(medstation.access.encryption.open_database finds it).")
        self.encrypted = key is not None
        self.engine = make_engine(db_path, key)
        if migrate:
            upgrade_to_head(self.engine)
        self.anchor = AuditAnchor(db_path)
        self._ensure_anchor()

    def _ensure_anchor(self) -> None:
        """Create the audit anchor's key on first open (adopting the head of an older trail), under the write lock."""
        if self.anchor.key_path.exists() or self.anchor.checkpoint_path.exists():
            return
        raw = self.engine.raw_connection()
        try:
            conn = raw.driver_connection
            cur = conn.cursor()
            try:
                begin_write_dbapi(cur, AUDIT_LOCK)
                try:
                    head = read_head(cur)
                except Exception:  # no chain tables yet (opened with migrate=False before the first migration)
                    head = None
                self.anchor.ensure(head)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                cur.close()
        finally:
            raw.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A short unit of work: commits on success, rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write_session(self, lock: int = WRITE_LOCK) -> Iterator[Session]:
        """Like :meth:`session`, but takes the write lock first (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an
        advisory lock: :func:`medstation.store.engine.lock_for_write`).

        For read-modify-write units (promote, rollback): a second writer waits for
        the lock (``busy_timeout``) and then reads the state the first one committed,
        instead of failing on a stale snapshot halfway through. ``lock``: the PostgreSQL
        advisory key (:func:`medstation.store.engine.row_lock_key` for one row; SQLite has one lock).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                lock_for_write(session.connection(), lock)
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    #: Set by the composition root (``lambda: session.actor``): events logged without an actor name the
    #: person signed in, so "who" is never blank when someone is.
    audit_actor_source: Callable[[], Any] | None = None

    #: Written when no actor is given and no one is signed in (start-up work, background jobs without a person).
    SYSTEM_ACTOR = "system"

    def audit(self, action: str, *, actor: Any = "", entity: str = "", entity_id: str | int = "",
              role: str = "", session: Session | None = None, **detail) -> int:
        """Append one hash-chained audit event and return its id.

        ``actor`` is a name or an :class:`~medstation.access.roles.Actor` (its role is recorded too);
        with neither an actor nor a signed-in person the event names :attr:`SYSTEM_ACTOR`, so no event is
        anonymous. With ``session`` the event is written inside that session's transaction: the clinical
        write and its audit event commit together or not at all. Without it the event is its own
        ``BEGIN IMMEDIATE`` transaction. Either way a signed checkpoint line goes to the anchor
        (:mod:`medstation.store.audit_anchor`); see :mod:`medstation.store.audit_chain`.
        """
        name, role = self._actor_fields(actor, role)
        fields = dict(action=action, actor=name, role=role, entity=entity, entity_id=str(entity_id), detail=detail)
        if session is not None:
            return self._audit_in(session, fields)
        raw = self.engine.raw_connection()
        try:
            return append_event(raw.driver_connection, anchor=self.anchor, **fields)
        finally:
            raw.close()

    def _actor_fields(self, actor: Any, role: str) -> tuple[str, str]:
        current = self.audit_actor_source() if self.audit_actor_source is not None else None
        if not actor and current is not None:
            actor = current
        name = getattr(actor, "name", actor) or ""
        role = role or getattr(getattr(actor, "role", ""), "value", getattr(actor, "role", "")) or ""
        if not role and current is not None and current.name == name:
            role = current.role.value  # callers that log the signed-in user by name still get the role recorded
        return str(name) or self.SYSTEM_ACTOR, str(role)

    def _audit_in(self, session: Session, fields: dict[str, Any]) -> int:
        """Append inside ``session``'s transaction; a rollback of it voids the event's checkpoint line."""
        from sqlalchemy import event as sa_event

        session.flush()  # the clinical rows first: they take the write lock the chain needs
        dbapi = session.connection().connection.driver_connection
        cur = dbapi.cursor()
        try:
            appended = append_in_transaction(cur, anchor=self.anchor, **fields)
        finally:
            cur.close()
        pending = session.info.get("audit_pending")
        if pending is None:
            pending = session.info["audit_pending"] = []
            anchor = self.anchor

            def voided(_session, *_args) -> None:
                for item in pending:
                    anchor.record(item.id, item.prev_hash, item.event_hash, kind="void")
                pending.clear()

            sa_event.listen(session, "after_rollback", voided)
            sa_event.listen(session, "after_commit", lambda *_: pending.clear())
        pending.append(appended)
        return appended.id

    def close(self) -> None:
        self.engine.dispose()
