"""The model registry: one row per model version, at most one active per kind."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


# --- model registry ----------------------------------------------------------------------------


class ModelKind(str, enum.Enum):
    segmentation = "segmentation"
    llm = "llm"
    embedding = "embedding"


class ModelStatus(str, enum.Enum):
    candidate = "candidate"
    active = "active"
    retired = "retired"
    failed = "failed"


class ModelVersion(SQLModel, table=True):
    """A model file the app can run. Promote/rollback flip ``status`` in one transaction."""

    __tablename__ = "model_version"
    __table_args__ = (
        Index("uq_model_version_one_active", "kind", unique=True, sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
        Index("uq_model_version_kind_sha", "kind", "sha256", unique=True),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: ModelKind = Field(index=True)
    name: str
    path: str
    sha256: str
    size_bytes: int = 0
    parent_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    status: ModelStatus = Field(default=ModelStatus.candidate, index=True)
    source: str = Field("", description="embedded | user | fine-tuned")
    created_at: datetime = Field(default_factory=utcnow)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Added by migration 0002 (model registry): lineage, training inputs and the rollback chain.
    dataset_version: str = Field("", description="training-set version a fine-tuned model was built from")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    activated_at: Optional[datetime] = Field(default=None, description="when it last became active")
    previous_active_id: Optional[int] = Field(
        default=None,
        foreign_key="model_version.id",
        description="the version that was active before this one was activated (what rollback returns to)",
    )
