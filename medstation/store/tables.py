"""Every table of the workstation, in one module.

Conventions: singular class names, explicit snake_case table names, UTC
timestamps, string enums for statuses. SQLite enforces the invariants it can
(unique UIDs; at most one active model version per kind via a partial index).
JSON columns hold small structured provenance (prompts, passage ids), never
pixel data: masks live in ``.npz`` files whose paths are stored here.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- imaging index -----------------------------------------------------------------------------


class Patient(SQLModel, table=True):
    __tablename__ = "patient"
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_key: str = Field(index=True, unique=True, description="PatientID + name, as indexed")
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""


class Study(SQLModel, table=True):
    __tablename__ = "study"
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    study_uid: str = Field(index=True, unique=True)
    study_date: str = ""
    study_time: str = ""
    description: str = ""
    accession: str = ""


class Series(SQLModel, table=True):
    __tablename__ = "series"
    id: Optional[int] = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    series_uid: str = Field(index=True, unique=True)
    modality: str = ""
    description: str = ""
    series_number: Optional[int] = None
    series_date: str = ""
    rows: Optional[int] = None
    columns: Optional[int] = None
    n_instances: int = 0


class Instance(SQLModel, table=True):
    __tablename__ = "instance"
    id: Optional[int] = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True)
    sop_uid: str = Field(index=True, unique=True)
    path: str
    instance_number: Optional[int] = None
    n_frames: int = 1
    file_size: int = 0
    mtime: float = 0.0
    header_cache: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="per-frame geometry/rescale, native pixel offset, window and overlay text, so loading skips header parsing",
    )


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
        Index("uq_model_version_one_active", "kind", unique=True, sqlite_where=text("status = 'active'")),
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


# --- segmentation ------------------------------------------------------------------------------


class SegmentationStatus(str, enum.Enum):
    draft = "draft"
    accepted = "accepted"
    rejected = "rejected"


class Segmentation(SQLModel, table=True):
    """One labelled segment of a series: the AI's mask and the human-corrected one, side by side."""

    __tablename__ = "segmentation"
    id: Optional[int] = Field(default=None, primary_key=True)
    series_uid: str = Field(index=True)
    name: str
    color: str = "#ff4040"
    status: SegmentationStatus = Field(default=SegmentationStatus.draft, index=True)
    engine: str = ""
    model_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    prompts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mask_path: str = Field("", description=".npz with the final (corrected) uint8 mask, shape (z, y, x)")
    ai_mask_path: str = Field("", description=".npz with the unedited model output, same shape")
    created_at: datetime = Field(default_factory=utcnow)
    decided_by: str = ""
    decided_at: Optional[datetime] = None


class Measurement(SQLModel, table=True):
    __tablename__ = "measurement"
    id: Optional[int] = Field(default=None, primary_key=True)
    segmentation_id: int = Field(foreign_key="segmentation.id", index=True)
    name: str = Field(description="area_mm2, volume_ml, hu_mean, long_axis_mm, ...")
    value: float
    unit: str = ""
    slice_index: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


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
    status: str = Field("building", description="building | complete | cancelled | failed")
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
    role: str = Field(description="user | assistant")
    content: str = ""
    status: str = Field("complete", description="complete | stopped | error")
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


# --- notes (clients, sessions, transcripts, notes, revisions) ----------------------------------
# (tables of the Notes tab go here; migration 0003)


# --- users, roles and audit chain --------------------------------------------------------------
# (tables of accounts and access go here; migration 0004)


# --- de-identification -------------------------------------------------------------------------
# (the pseudonym map goes here; migration 0005)


# --- training and datasets ---------------------------------------------------------------------
# (datasets, training runs, queue, schedules, comparisons go here; migration 0006)


# --- viewer annotations (rulers, ROIs, angles) -------------------------------------------------


class ViewerAnnotation(SQLModel, table=True):
    """A measurement drawn on a slice (ruler, ROI, angle), kept with its series (migration 0007)."""

    __tablename__ = "viewer_annotation"
    id: Optional[int] = Field(default=None, primary_key=True)
    series_uid: str = Field(index=True)
    plane: str = Field(description="axial | coronal | sagittal")
    slice_index: int = Field(description="0-based index along the plane's normal")
    kind: str = Field(description="ruler | roi | angle (AnnotationKind)")
    points: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                      description="pixel (x = column, y = row) points on the slice")
    value_text: str = Field("", description="the value as shown when it was drawn, e.g. '18.2 mm'")
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


# --- chat answers ------------------------------------------------------------------------------
# (chat and knowledge-base changes go here; migration 0008)
