"""Conversations and their messages in the database, handed out as frozen values.

Rows never leave a session: readers get :class:`MessageRecord` /
:class:`ConversationRecord` copies, safe to pass between the ``llm`` lane and
the GUI thread. Assistant messages are AI drafts (``ReviewStatus.draft``)
until a clinician accepts or rejects them: :func:`decide_review` makes the
:class:`ReviewDecision` (refusing to accept an answer that is not a whole,
checked answer) and :func:`review_message` stores and audits it.

Statuses are enums stored as their string values in the existing columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from medstation.llm.errors import LLMError
from medstation.llm.answer.provenance import AnswerProvenance
from medstation.store.database import Database
from medstation.store.tables import ChatMessage, Conversation, utcnow

TITLE_CHARS = 80


class MessageRole(str, Enum):
    user = "user"
    assistant = "assistant"


class MessageStatus(str, Enum):
    """``truncated``: the answer hit the token limit; ``not_in_knowledge_base``: refused, nothing covers it."""

    complete = "complete"
    truncated = "truncated"
    stopped = "stopped"
    error = "error"
    not_in_knowledge_base = "not_in_knowledge_base"


class ReviewStatus(str, Enum):
    none = ""  # user turns are not reviewed
    draft = "draft"
    accepted = "accepted"
    rejected = "rejected"


#: Answers a clinician may accept: whole answers (a truncated one says so next to the button).
ACCEPTABLE = frozenset({MessageStatus.complete, MessageStatus.truncated})


class ReviewRefused(LLMError):
    """The decision cannot be recorded (e.g. accepting a stopped answer)."""


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    """One turn; ``provenance`` is None for user turns."""

    id: int
    conversation_id: int
    role: MessageRole
    content: str
    status: MessageStatus
    mode: str
    created_at: datetime
    model_version_id: int | None = None
    kb_version_id: int | None = None
    prompt_sha256: str = ""
    review_status: ReviewStatus = ReviewStatus.draft
    reviewed_by: str = ""
    provenance: AnswerProvenance | None = None


def _record(row: ChatMessage) -> MessageRecord:
    role = MessageRole(row.role)
    return MessageRecord(
        id=row.id, conversation_id=row.conversation_id, role=role, content=row.content,
        status=MessageStatus(row.status), mode=row.mode, created_at=row.created_at,
        model_version_id=row.model_version_id, kb_version_id=row.kb_version_id, prompt_sha256=row.prompt_sha256,
        review_status=ReviewStatus(row.review_status or ""), reviewed_by=row.reviewed_by,
        provenance=AnswerProvenance.from_json(row.provenance) if role is MessageRole.assistant else None,
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


def add_message(db: Database, conversation_id: int, role: MessageRole, content: str, *,
                status: MessageStatus = MessageStatus.complete, review_status: ReviewStatus = ReviewStatus.draft,
                provenance: AnswerProvenance | None = None, **fields: Any) -> int:
    """Store one turn and bump the conversation's ``updated_at``; returns the message id."""
    with db.session() as session:
        row = ChatMessage(conversation_id=conversation_id, role=MessageRole(role).value, content=content,
                          status=MessageStatus(status).value, review_status=ReviewStatus(review_status).value,
                          provenance=provenance.to_json() if provenance is not None else {}, **fields)
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
        if message.role is MessageRole.user:
            pending_question = message.content
        elif message.role is MessageRole.assistant and pending_question is not None:
            if message.status is MessageStatus.complete and message.content.strip():
                turns += [{"role": "user", "content": pending_question},
                          {"role": "assistant", "content": message.content}]
            pending_question = None
    return turns


@dataclass(frozen=True)
class ReviewDecision:
    """A clinician's verdict on one AI answer: ``decision`` is accepted or rejected, ``actor`` who decided."""

    message_id: int
    decision: ReviewStatus
    actor: str


def decide_review(message: MessageRecord, decision: ReviewStatus | str, actor: str) -> ReviewDecision:
    """The decision to record, or :class:`ReviewRefused` with the reason.

    Only assistant answers are reviewed; only whole answers (``ACCEPTABLE``) can be accepted —
    a stopped, failed or "not in the knowledge base" reply can only be rejected.
    """
    decision = ReviewStatus(decision)
    if decision not in (ReviewStatus.accepted, ReviewStatus.rejected):
        raise ReviewRefused(f"A review is accepted or rejected, not {decision.value!r}.")
    if message.role is not MessageRole.assistant or not message.id:
        raise ReviewRefused("Only a stored AI answer can be reviewed.")
    if decision is ReviewStatus.accepted and message.status not in ACCEPTABLE:
        raise ReviewRefused(f"This answer is {message.status.value.replace('_', ' ')}: it cannot be accepted, "
                            "only rejected. Ask again for a whole answer.")
    return ReviewDecision(message.id, decision, actor)


def review_message(db: Database, decision: ReviewDecision) -> None:
    """Store a clinician's :class:`ReviewDecision` on an AI answer; audited."""
    with db.session() as session:
        row = session.get(ChatMessage, decision.message_id)
        if row is None or row.role != MessageRole.assistant.value:
            raise ReviewRefused(f"There is no AI answer {decision.message_id} to review.")
        row.review_status = decision.decision.value
        row.reviewed_by = decision.actor
        row.reviewed_at = utcnow()
        session.add(row)
        db.audit(f"chat.answer.{decision.decision.value}", actor=decision.actor, entity="chat_message",
                 entity_id=decision.message_id, session=session)
