"""Knowledge-base versions and documents, conversations and chat messages with their provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


# --- knowledge base and chat ---------------------------------------------------------------------


class KbVersion(SQLModel, table=True):
    """One state of the knowledge base; every answer points at the version it was built from."""

    __tablename__ = "kb_version"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    collection: str = ""
    embedding_model: str = ""
    chunk_chars: int = 0
    chunk_overlap: int = 0
    doc_count: int = 0
    chunk_count: int = 0
    embedding_sha256: str = Field("", description="sha256 of the embedding model's weights file")
    status: str = Field("building", description="KbVersionStatus: building | complete | cancelled | failed")
    finished_at: Optional[datetime] = None
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class KbDocument(SQLModel, table=True):
    """A source document as ingested; ``sha256`` makes ingestion incremental and resumable."""

    __tablename__ = "kb_document"
    id: Optional[int] = Field(default=None, primary_key=True)
    doc_key: str = Field(index=True, unique=True, description="unique across sources: <source>/<doc_id>")
    doc_id: str = Field(index=True, description="the source's own id (MedQuAD doc_id, or the file path)")
    source: str = ""
    source_path: str = Field("", index=True)
    title: str = ""
    url: str = ""
    sha256: str = ""
    chunk_count: int = 0
    ingested_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class ChatMessage(SQLModel, table=True):
    """A turn of a conversation. Assistant turns carry full provenance and stay drafts for the clinician."""

    __tablename__ = "chat_message"
    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    role: str = Field(description="MessageRole: user | assistant")
    content: str = ""
    status: str = Field("complete", description="MessageStatus: complete | truncated | stopped | error | "
                        "not_in_knowledge_base")
    mode: str = Field("chat", description="chat | reasoning (structured differential)")
    created_at: datetime = Field(default_factory=utcnow)
    model_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    kb_version_id: Optional[int] = Field(default=None, foreign_key="kb_version.id")
    prompt_sha256: str = ""
    review_status: str = Field("draft", description="draft | accepted | rejected: AI text stays a draft until reviewed")
    reviewed_by: str = ""
    reviewed_at: Optional[datetime] = None
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="retrieved passage ids and scores, cited ids, removed citations, model name",
    )
