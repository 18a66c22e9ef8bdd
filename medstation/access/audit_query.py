"""Reading the audit trail for the Admin tab: filters, pages, and the chain check.

Only sessions with ``Permission.view_audit`` may read it. Filters are plain
values so the GUI (or a script) builds an :class:`AuditFilter` and gets frozen
:class:`AuditRow` values back, newest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from medstation.access.roles import Permission, UserSession
from medstation.store.audit_chain import ChainReport, verify_chain
from medstation.store.database import Database


@dataclass(frozen=True)
class AuditFilter:
    """Empty fields match everything. ``action`` matches a prefix (``user.`` = every account event);
    ``text`` matches anywhere in entity id or detail; dates are inclusive (UTC days)."""

    actor: str = ""
    role: str = ""
    action: str = ""
    entity: str = ""
    text: str = ""
    since: date | None = None
    until: date | None = None
    limit: int = 500


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str  # UTC, "YYYY-MM-DD HH:MM:SS"
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]
    event_hash: str


class AuditTrail:
    """The audit trail as the Admin tab sees it."""

    def __init__(self, db: Database, session: UserSession) -> None:
        self.db = db
        self.session = session

    def search(self, flt: AuditFilter) -> list[AuditRow]:
        self.session.require(Permission.view_audit)
        clauses, params = [], {}
        for column in ("actor", "role", "entity"):
            value = getattr(flt, column).strip()
            if value:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        if flt.action.strip():
            clauses.append("action LIKE :action ESCAPE '\\'")
            params["action"] = _like_escape(flt.action.strip()) + "%"
        if flt.text.strip():
            clauses.append("(entity_id LIKE :text ESCAPE '\\' OR detail LIKE :text ESCAPE '\\')")
            params["text"] = "%" + _like_escape(flt.text.strip()) + "%"
        if flt.since:
            clauses.append("at >= :since")
            params["since"] = f"{flt.since:%Y-%m-%d} 00:00:00"
        if flt.until:
            clauses.append("at < :until")
            params["until"] = f"{flt.until + timedelta(days=1):%Y-%m-%d} 00:00:00"
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = ("SELECT id, at, actor, role, action, entity, entity_id, detail, event_hash FROM audit_event"
               f"{where} ORDER BY id DESC LIMIT :limit")
        params["limit"] = max(1, int(flt.limit))
        with self.db.engine.connect() as conn:
            rows = conn.execute(text(sql), params).fetchall()
        return [AuditRow(r[0], str(r[1])[:19], r[2], r[3], r[4], r[5], r[6], _detail(r[7]), r[8]) for r in rows]

    def distinct(self, column: str) -> list[str]:
        """Values seen in ``actor``, ``role``, ``action`` or ``entity``, for the filter pickers."""
        if column not in ("actor", "role", "action", "entity"):
            raise ValueError(column)
        self.session.require(Permission.view_audit)
        with self.db.engine.connect() as conn:
            return [r[0] for r in conn.execute(text(f"SELECT DISTINCT {column} FROM audit_event ORDER BY 1")) if r[0]]

    def verify(self) -> ChainReport:
        self.session.require(Permission.view_audit)
        raw = self.db.engine.raw_connection()
        try:
            return verify_chain(raw.driver_connection, anchor=self.db.anchor)  # the window checks the anchor too
        finally:
            raw.close()


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _detail(raw) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {"unparsed": str(raw)}
    return value if isinstance(value, dict) else {"value": value}


def parse_day(value: str) -> date | None:
    value = (value or "").strip()
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None
