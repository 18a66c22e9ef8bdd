"""Conversations and their messages in the database, handed out as frozen values.

Rows never leave a session: readers get :class:`MessageRecord` /
:class:`ConversationRecord` copies, safe to pass between the ``llm`` lane and
the GUI thread. Assistant messages are AI drafts (``review_status="draft"``)
until a clinician accepts or rejects them with :func:`review_message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from medstation.store.database import Database
from medstation.store.tables import ChatMessage, Conversation, utcnow

TITLE_CHARS = 80


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    mode: str
    created_at: datetime
    model_version_id: int | None = None
    kb_version_id: int | None = None
    prompt_sha256: str = ""
    review_status: str = "draft"
    reviewed_by: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)


def _record(row: ChatMessage) -> MessageRecord:
    return MessageRecord(
        id=row.id, conversation_id=row.conversation_id, role=row.role, content=row.content, status=row.status,
        mode=row.mode, created_at=row.created_at, model_version_id=row.model_version_id,
        kb_version_id=row.kb_version_id, prompt_sha256=row.prompt_sha256, review_status=row.review_status,
        reviewed_by=row.reviewed_by, provenance=dict(row.provenance or {}),
    )


def create_conversation(db: Database, title: str) -> int:
    """A new conversation titled by its first question (one line, at most 80 characters)."""
    one_line = " ".join(title.split())
    if len(one_line) > TITLE_CHARS:
        one_line = one_line[: TITLE_CHARS - 1] + "…"
    with db.session() as session:
        row = Conversation(title=one_line or "Untitled")
        session.add(row)
        session.flush()
        return row.id


def add_message(db: Database, conversation_id: int, role: str, content: str, **fields: Any) -> int:
    """Store one turn and bump the conversation's ``updated_at``; returns the message id."""
    with db.session() as session:
        row = ChatMessage(conversation_id=conversation_id, role=role, content=content, **fields)
        session.add(row)
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.updated_at = utcnow()
            session.add(conversation)
        session.flush()
        return row.id


def list_conversations(db: Database, text_filter: str = "", limit: int = 200) -> list[ConversationRecord]:
    """Newest first; ``text_filter`` matches the title or any message text (case-insensitive)."""
    with db.session() as session:
        query = select(Conversation).order_by(col(Conversation.updated_at).desc()).limit(limit)
        needle = text_filter.strip()
        if needle:
            pattern = f"%{needle}%"
            in_messages = select(ChatMessage.conversation_id).where(col(ChatMessage.content).ilike(pattern))
            query = query.where(or_(col(Conversation.title).ilike(pattern), col(Conversation.id).in_(in_messages)))
        return [ConversationRecord(c.id, c.title, c.updated_at) for c in session.exec(query)]


def load_messages(db: Database, conversation_id: int) -> list[MessageRecord]:
    """All turns of a conversation, oldest first."""
    with db.session() as session:
        rows = session.exec(
            select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(col(ChatMessage.id))
        )
        return [_record(r) for r in rows]


def get_message(db: Database, message_id: int) -> MessageRecord | None:
    with db.session() as session:
        row = session.get(ChatMessage, message_id)
        return _record(row) if row is not None else None


def history_for_prompt(messages: list[MessageRecord]) -> list[dict[str, str]]:
    """Earlier complete question/answer pairs as chat turns (stopped or failed answers are left out)."""
    turns: list[dict[str, str]] = []
    pending_question: str | None = None
    for message in messages:
        if message.role == "user":
            pending_question = message.content
        elif message.role == "assistant" and pending_question is not None:
            if message.status == "complete" and message.content.strip():
                turns += [{"role": "user", "content": pending_question},
                          {"role": "assistant", "content": message.content}]
            pending_question = None
    return turns


def review_message(db: Database, message_id: int, decision: str, actor: str) -> None:
    """A clinician accepts or rejects an AI answer; audited."""
    if decision not in ("accepted", "rejected"):
        raise ValueError(f"decision must be accepted or rejected, not {decision!r}")
    with db.session() as session:
        row = session.get(ChatMessage, message_id)
        if row is None or row.role != "assistant":
            raise ValueError(f"no assistant message {message_id}")
        row.review_status = decision
        row.reviewed_by = actor
        row.reviewed_at = utcnow()
        session.add(row)
    db.audit(f"chat.answer.{decision}", actor=actor, entity="chat_message", entity_id=message_id)
