"""Accounts, access tokens and the hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


class AuditEvent(SQLModel, table=True):
    """Who did what, when: accepting masks, exporting, promoting models."""

    __tablename__ = "audit_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = ""
    action: str = Field(index=True)
    entity: str = ""
    entity_id: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # hash chain (migration 0004; written only by medstation.store.audit_chain)
    role: str = Field("", description="the actor's role when the event happened")
    prev_hash: str = Field("", description="hash of the previous event (64 zeros for the first)")
    event_hash: str = Field("", index=True, description="sha256 over the canonical JSON of this event's fields and prev_hash")


# --- users, roles and audit chain --------------------------------------------------------------
# (tables of accounts and access go here; migration 0004)


class UserAccount(SQLModel, table=True):
    """A local account. ``password_hash`` is an argon2id PHC string; the password itself is never stored."""

    __tablename__ = "user_account"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    role: str = Field(description="a medstation.access.roles.Role value")
    password_hash: str
    active: bool = True
    failed_attempts: int = Field(0, description="consecutive failed logins since the last success")
    locked_until: Optional[datetime] = Field(default=None, description="UTC; logins are refused before it")
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = ""
    last_login_at: Optional[datetime] = None


class AccessToken(SQLModel, table=True):
    """A token an admin issued for headless use; only the sha256 of the secret is kept."""

    __tablename__ = "access_token"
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_sha256: str = Field(index=True, unique=True)
    issued_by: str = ""
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: Optional[datetime] = None
    revoked: bool = False


class AuditChainHead(SQLModel, table=True):
    """One row (id 1): the newest chained event, so deleting events from the end is detected too."""

    __tablename__ = "audit_chain_head"
    id: Optional[int] = Field(default=None, primary_key=True)
    last_event_id: int = 0
    last_hash: str = ""
    event_count: int = 0
