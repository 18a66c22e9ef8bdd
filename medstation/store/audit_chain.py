"""The append-only, hash-chained audit trail.

Each ``audit_event`` row stores ``prev_hash`` (the previous event's hash, 64
zeros for the first) and ``event_hash`` = sha256 over the canonical JSON
(sorted keys, no spaces, UTF-8) of ``{id, at, actor, role, action, entity,
entity_id, detail, prev_hash}``. ``at`` is hashed as the exact text SQLite
stores, so verification needs no datetime round trip. A one-row
``audit_chain_head`` holds the newest event's id and hash and the count, so
deleting events from the end is caught as well as editing, deleting or
reordering anywhere else.

Appends run in one ``BEGIN IMMEDIATE`` transaction on a raw DB-API connection:
SQLite grants the write lock before the head is read, so two writers (threads
or processes) can never both link to the same predecessor and fork the chain.
On PostgreSQL (clinic mode) the same holds through ``pg_advisory_xact_lock``: the
id is taken from the sequence under the lock and the finished row is INSERTed
once (never updated), so the application's role needs no UPDATE on the table.

This detects tampering by anyone who edits the file without recomputing every
later hash. Truncating the tail and rewriting the head row, or wiping the trail, is
caught by the anchor outside the database (:mod:`medstation.store.audit_anchor`),
which :func:`verify_chain` checks when given one. An event can be appended inside the
caller's transaction (:func:`append_in_transaction`, via ``Database.audit(session=...)``),
so a clinical write and its audit event commit or roll back together.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medstation.store.audit_anchor import verify_anchor
from medstation.store.engine import AUDIT_LOCK, begin_write_dbapi, is_psycopg, sql_for

GENESIS_HASH = "0" * 64
_COLUMNS = ("id", "at", "actor", "role", "action", "entity", "entity_id", "detail", "prev_hash", "event_hash")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plain_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` as plain JSON values (paths, enums and the like become strings; NaN and infinities become
    the strings "NaN", "Infinity", "-Infinity", since strict JSON, as PostgreSQL stores it, has no such numbers)."""
    return json.loads(json.dumps(detail, default=str), parse_constant=str)


def event_hash(fields: dict[str, Any]) -> str:
    """sha256 hex of one event; ``fields`` has every hashed key (``detail`` as a dict)."""
    payload = {key: fields[key] for key in _COLUMNS if key != "event_hash"}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def sqlite_timestamp(moment: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so ORM reads still parse it."""
    moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class AppendedEvent:
    """What :func:`append_in_transaction` wrote: the event's id, its predecessor's hash and its own."""

    id: int
    prev_hash: str
    event_hash: str


def append_event(
    dbapi_connection, *, action: str, actor: str, role: str, entity: str, entity_id: str, detail: dict[str, Any],
    anchor=None,
) -> int:
    """Append one chained event in its own ``BEGIN IMMEDIATE`` transaction and return its id.

    Commits; rolls back on any error (and then voids its checkpoint line, when one was written).
    """
    cur = dbapi_connection.cursor()
    appended = None
    try:
        begin_write_dbapi(cur, AUDIT_LOCK)
        appended = append_in_transaction(cur, action=action, actor=actor, role=role, entity=entity,
                                         entity_id=entity_id, detail=detail, anchor=anchor)
        dbapi_connection.commit()
        return appended.id
    except BaseException:
        dbapi_connection.rollback()
        if appended is not None and anchor is not None:
            anchor.record(appended.id, appended.prev_hash, appended.event_hash, kind="void")
        raise
    finally:
        cur.close()


def append_in_transaction(
    cur, *, action: str, actor: str, role: str, entity: str, entity_id: str, detail: dict[str, Any], anchor=None,
) -> AppendedEvent:
    """Append one chained event inside the caller's open transaction (no BEGIN, no commit).

    The row is inserted first: that takes SQLite's write lock (or fails at once on a stale
    snapshot), so the head read after it is the newest and two writers never link to the
    same predecessor. The checkpoint line is written while the lock is still held, so the
    anchor's lines follow the chain's order; if the caller then rolls back it must void it.
    """
    detail = plain_detail(detail)
    at = sqlite_timestamp(datetime.now(timezone.utc))
    if is_psycopg(cur):
        return _append_on_server(cur, at=at, action=action, actor=actor, role=role, entity=entity,
                                 entity_id=entity_id, detail=detail, anchor=anchor)
    new_id = int(cur.execute(
        "INSERT INTO audit_event (at, actor, role, action, entity, entity_id, detail, prev_hash, event_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, '', '') RETURNING id",
        (at, actor, role, action, entity, entity_id, canonical_json(detail)),
    ).fetchone()[0])
    head = cur.execute("SELECT last_hash FROM audit_chain_head WHERE id = 1").fetchone()
    prev = head[0] if head and head[0] else GENESIS_HASH
    fields = dict(id=new_id, at=at, actor=actor, role=role, action=action, entity=entity,
                  entity_id=entity_id, detail=detail, prev_hash=prev)
    digest = event_hash(fields)
    cur.execute("UPDATE audit_event SET prev_hash = ?, event_hash = ? WHERE id = ?", (prev, digest, new_id))
    _write_head(cur, new_id, digest, increment=1)
    if anchor is not None:
        anchor.record(new_id, prev, digest)
    return AppendedEvent(new_id, prev, digest)


def _append_on_server(cur, *, at: str, action: str, actor: str, role: str, entity: str, entity_id: str,
                      detail: dict[str, Any], anchor=None) -> AppendedEvent:
    """PostgreSQL: under the chain's advisory lock, take the next id, hash, then INSERT the finished row.

    The row is never updated after it is written, so the application's database role needs only
    INSERT and SELECT on ``audit_event`` (docs/CLINIC.md: it has no UPDATE or DELETE there).
    """
    begin_write_dbapi(cur, AUDIT_LOCK)
    new_id = int(cur.execute("SELECT nextval(pg_get_serial_sequence('audit_event', 'id'))").fetchone()[0])
    head = cur.execute("SELECT last_hash FROM audit_chain_head WHERE id = 1").fetchone()
    prev = head[0] if head and head[0] else GENESIS_HASH
    digest = event_hash(dict(id=new_id, at=at, actor=actor, role=role, action=action, entity=entity,
                             entity_id=entity_id, detail=detail, prev_hash=prev))
    cur.execute("INSERT INTO audit_event (id, at, actor, role, action, entity, entity_id, detail, prev_hash, event_hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (new_id, at, actor, role, action, entity, entity_id, canonical_json(detail), prev, digest))
    _write_head(cur, new_id, digest, increment=1)
    if anchor is not None:
        anchor.record(new_id, prev, digest)
    return AppendedEvent(new_id, prev, digest)


def read_head(cur) -> tuple[int, str] | None:
    """(last event id, its hash) from the chain head row, or None for an empty trail."""
    row = cur.execute("SELECT last_event_id, last_hash FROM audit_chain_head WHERE id = 1").fetchone()
    return (int(row[0]), str(row[1])) if row and row[0] else None


def _write_head(cur, last_id: int, last_hash: str, *, increment: int) -> None:
    updated = cur.execute(sql_for(cur,
        "UPDATE audit_chain_head SET last_event_id = ?, last_hash = ?, event_count = event_count + ? WHERE id = 1"),
        (last_id, last_hash, increment),
    ).rowcount
    if not updated:
        cur.execute(sql_for(cur,
            "INSERT INTO audit_chain_head (id, last_event_id, last_hash, event_count) VALUES (1, ?, ?, ?)"),
            (last_id, last_hash, increment),
        )


def seal_unchained(sa_connection) -> int:
    """Chain events written before migration 0004 (empty ``event_hash``), in id order. Returns how many."""
    from sqlalchemy import text

    rows = sa_connection.execute(text(
        "SELECT id, at, actor, role, action, entity, entity_id, detail FROM audit_event ORDER BY id")).fetchall()
    prev, count, last_id = GENESIS_HASH, 0, 0
    for row in rows:
        fields = dict(id=row[0], at=str(row[1]), actor=row[2] or "", role=row[3] or "", action=row[4],
                      entity=row[5] or "", entity_id=row[6] or "", detail=_parse_detail(row[7]), prev_hash=prev)
        digest = event_hash(fields)
        sa_connection.execute(text("UPDATE audit_event SET prev_hash = :p, event_hash = :h WHERE id = :i"),
                              {"p": prev, "h": digest, "i": row[0]})
        prev, count, last_id = digest, count + 1, row[0]
    if count:
        sa_connection.execute(text(
            "INSERT OR REPLACE INTO audit_chain_head (id, last_event_id, last_hash, event_count) VALUES (1, :i, :h, :c)"),
            {"i": last_id, "h": prev, "c": count})
    return count


def _parse_detail(raw) -> Any:
    if isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return raw  # an unparsable detail still hashes (as text) and so fails verification honestly


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`. ``bad_event_id`` is None when intact; ``reason`` says what is wrong."""

    intact: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""
    anchored: int | None = None  # checkpoint lines that held, when an anchor was checked

    def summary(self) -> str:
        if self.intact:
            outside = f"; {self.anchored} anchored outside the database" if self.anchored is not None else ""
            return f"audit chain intact: {self.checked} events{outside}"
        where = f"event {self.bad_event_id}" if self.bad_event_id is not None else "chain head"
        return f"audit chain BROKEN at {where}: {self.reason} ({self.checked} events checked before it)"


def read_events(dbapi_connection, *, since: str | None = None) -> list[dict[str, Any]]:
    """Every stored event in id order as plain dicts (``detail`` parsed); ``since`` is an ISO date/time."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM audit_event"
    params: tuple = ()
    if since:
        sql += " WHERE at >= ?"
        params = (since.replace("T", " "),)
    cur = dbapi_connection.cursor()
    try:
        rows = cur.execute(sql_for(cur, sql + " ORDER BY id"), params).fetchall()
    finally:
        cur.close()
    return [
        {**dict(zip(_COLUMNS, row)), "at": _stored_text(row[1]), "detail": _parse_detail(row[7])} for row in rows
    ]


def _stored_text(at) -> str:
    """``at`` as the text that was hashed: SQLite returns it as stored; PostgreSQL returns a datetime."""
    return sqlite_timestamp(at) if isinstance(at, datetime) else str(at)


def verify_chain(dbapi_connection, anchor=None) -> ChainReport:
    """Recompute every hash and link, compare the newest event with the chain head, then (given an
    :class:`~medstation.store.audit_anchor.AuditAnchor`) check the trail against the anchor outside the file."""
    events = read_events(dbapi_connection)
    prev, checked = GENESIS_HASH, 0
    for event in events:
        fields = {key: ("" if event[key] is None else event[key]) for key in _COLUMNS}
        if not fields["event_hash"]:
            return ChainReport(False, checked, event["id"], "event has no hash (written outside the audit API)")
        if fields["prev_hash"] != prev:
            return ChainReport(False, checked, event["id"],
                               "link to the previous event is broken (an event before it was deleted or events were reordered)")
        if event_hash(fields) != fields["event_hash"]:
            return ChainReport(False, checked, event["id"], "contents do not match the event's hash (the event was edited)")
        prev, checked = fields["event_hash"], checked + 1
    cur = dbapi_connection.cursor()
    try:
        head = cur.execute("SELECT last_event_id, last_hash, event_count FROM audit_chain_head WHERE id = 1").fetchone()
    finally:
        cur.close()
    head = head or (0, "", 0)
    last_id = events[-1]["id"] if events else 0
    if (head[0] or 0, head[1] or "", head[2] or 0) != (last_id, prev if events else "", checked):
        return ChainReport(False, checked, head[0] or None,
                           f"chain head records {head[2]} events ending at event {head[0]}, the table has {checked} "
                           f"ending at event {last_id} (events at the end were deleted or the head was edited)")
    if anchor is not None:
        outside = verify_anchor(anchor, events)
        if not outside.intact:
            return ChainReport(False, checked, outside.bad_event_id, f"anchor check failed: {outside.reason}",
                               anchored=outside.anchored)
        return ChainReport(True, checked, anchored=outside.anchored)
    return ChainReport(True, checked)


def export_events(events: list[dict[str, Any]], out: Path, fmt: str) -> int:
    """Write events as ``csv`` (detail as canonical JSON text) or ``json`` (a list); returns the count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        out.write_text(json.dumps(events, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    elif fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(_COLUMNS))
            writer.writeheader()
            for event in events:
                writer.writerow({**event, "detail": canonical_json(event["detail"])})
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return len(events)
