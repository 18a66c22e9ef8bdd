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

from sqlalchemy import JSON, Column, Index, String, text
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
    # hash chain (migration 0004; written only by medstation.store.audit_chain)
    role: str = Field("", description="the actor's role when the event happened")
    prev_hash: str = Field("", description="hash of the previous event (64 zeros for the first)")
    event_hash: str = Field("", index=True, description="sha256 over the canonical JSON of this event's fields and prev_hash")


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


# --- notes (clients, sessions, transcripts, notes, revisions) ----------------------------------
# (tables of the Notes tab go here; migration 0003)


# Statuses and span kinds are plain strings here; their enums live in medstation.notes.


class NotesClient(SQLModel, table=True):
    """A therapy client, known in the app by a clinic code (no other identifier is required)."""

    __tablename__ = "notes_client"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)
    display_name: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    archived: bool = False


class TherapySession(SQLModel, table=True):
    __tablename__ = "therapy_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="notes_client.id", index=True)
    session_date: str = Field("", description="ISO date of the session, YYYY-MM-DD")
    duration_min: int = 0
    modality: str = Field("individual", description="individual | couple | family | group | telehealth")
    clinician: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SessionTranscript(SQLModel, table=True):
    """One version of a session's transcript; edits and speaker swaps add a version, never overwrite."""

    __tablename__ = "session_transcript"
    __table_args__ = (Index("uq_session_transcript_version", "session_id", "version", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="therapy_session.id", index=True)
    version: int = 1
    source_format: str = ""
    source_name: str = ""
    text: str = Field("", description="canonical '[speaker] words' lines")
    sha256: str = ""
    roles_swapped: bool = False
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class NoteTemplateRecord(SQLModel, table=True):
    """A clinic-defined note template (sections, instructions, length bounds) as JSON."""

    __tablename__ = "note_template"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    title: str = ""
    version: str = ""
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SessionNote(SQLModel, table=True):
    """A note of a session. ``status`` draft | signed; a signed note's text is frozen in ``signed_text``."""

    __tablename__ = "session_note"
    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="therapy_session.id", index=True)
    template: str = ""
    template_version: str = ""
    status: str = Field("draft", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    signed_by: str = ""
    signed_at: Optional[datetime] = None
    signed_text: str = ""
    signed_sha256: str = ""
    ai_share_at_signing: Optional[float] = None
    signed_revision: Optional[int] = None


class NoteRevision(SQLModel, table=True):
    """A saved state of a note: full text plus span tags (AI draft / AI edited by a human / human)."""

    __tablename__ = "note_revision"
    __table_args__ = (Index("uq_note_revision_number", "note_id", "number", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    number: int = 1
    kind: str = Field("edit", description="draft | edit | regenerate | autosave-restore")
    author: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    text: str = ""
    spans: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ops: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                      description="the edit operations from the previous revision (replayable)")
    transcript_id: Optional[int] = Field(default=None, foreign_key="session_transcript.id")
    provenance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class NoteAutosave(SQLModel, table=True):
    """The editor buffer saved every second; replaced in place, promoted to a revision on save."""

    __tablename__ = "note_autosave"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True, unique=True)
    base_revision: int = 0
    saved_at: datetime = Field(default_factory=utcnow)
    text: str = ""
    spans: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class NoteAddendum(SQLModel, table=True):
    """A dated addition to a signed note (the signed text itself never changes)."""

    __tablename__ = "note_addendum"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    author: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    text: str = ""


class NoteRiskAcknowledgement(SQLModel, table=True):
    """A clinician's acknowledgement of one risk flag of a note (required before signing)."""

    __tablename__ = "note_risk_ack"
    id: Optional[int] = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_note.id", index=True)
    category: str = ""
    status: str = ""
    lines: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    acknowledged_by: str = ""
    acknowledged_at: datetime = Field(default_factory=utcnow)
    comment: str = ""


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


# --- de-identification -------------------------------------------------------------------------


class PseudonymKind(str, enum.Enum):
    patient = "patient"  # pseudonym = new PatientID (and PatientName); date_shift_days is this patient's shift
    uid = "uid"  # pseudonym = the new UID that replaces a source UID (study, series, frame of reference, SOP...)


class DeidPseudonym(SQLModel, table=True):
    """The persistent de-identification map: a re-identification key, so it never leaves the store.

    Sources are kept only as SHA-256 of ``kind + NUL + value``: the map can answer
    "what did this patient/UID become" for a value one already holds, never list originals."""

    __tablename__ = "deid_pseudonym"
    __table_args__ = (Index("ix_deid_pseudonym_source", "kind", "source_sha256", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(description="PseudonymKind value")
    source_sha256: str
    pseudonym: str
    date_shift_days: int = Field(0, description="days added to every date of this patient (retain-dates option)")
    created_at: datetime = Field(default_factory=utcnow)


# --- training and datasets ---------------------------------------------------------------------
# (datasets, training runs, queue, schedules, comparisons go here; migration 0006)


class DatasetKind(str, enum.Enum):
    segmentation = "segmentation"
    notes = "notes"


class TrainingDataset(SQLModel, table=True):
    """A named, growing collection of validated cases; each snapshot is a :class:`DatasetVersion`."""

    __tablename__ = "training_dataset"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    kind: DatasetKind = Field(sa_column=Column(String, nullable=False))
    origin: str = Field("", description="clinic (validated cases) | seg2d | nifti | aci-bench")
    created_at: datetime = Field(default_factory=utcnow)


class DatasetVersion(SQLModel, table=True):
    """An immutable snapshot: files under ``path``, identified by ``content_sha256`` of the case list and files."""

    __tablename__ = "dataset_version"
    __table_args__ = (Index("uq_dataset_version_number", "dataset_id", "version", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="training_dataset.id", index=True)
    version: int
    content_sha256: str = Field(index=True)
    path: str = Field(description="folder holding dataset.json, manifest.json and the case files")
    n_cases: int = 0
    n_excluded: int = 0
    split_counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                   description="excluded cases and why, quality-check counts")
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class DatasetCase(SQLModel, table=True):
    """One case of a snapshot. ``case_key`` is a salted hash (no patient id or UID); ``origin`` stays in the DB only."""

    __tablename__ = "dataset_case"
    id: Optional[int] = Field(default=None, primary_key=True)
    dataset_version_id: int = Field(foreign_key="dataset_version.id", index=True)
    case_key: str = Field(index=True)
    split: str = Field(description="train | val | test | golden")
    source: str = ""
    modality: str = ""
    origin: str = Field("", description="segmentation:<id>, note:<id> or the import file, for the ledger")
    n_items: int = 1


class TrainingRunStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class TrainingRun(SQLModel, table=True):
    """One fine-tuning job, from the persisted queue to its registered model (or its failure and log)."""

    __tablename__ = "training_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True, description="segmentation | llm")
    status: TrainingRunStatus = Field(default=TrainingRunStatus.queued, sa_column=Column(String, nullable=False, index=True))
    dataset_version_id: Optional[int] = Field(default=None, foreign_key="dataset_version.id")
    base_model_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    model_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    pid: Optional[int] = None
    epochs_done: int = 0
    run_dir: str = Field("", description="checkpoints and the worker log")
    error: str = ""


class TrainingMetric(SQLModel, table=True):
    """A point of a run's curves: ``name`` (train_loss, val_dice, val_iou) at ``epoch`` (and ``step``)."""

    __tablename__ = "training_metric"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="training_run.id", index=True)
    epoch: int
    step: int = 0
    name: str
    value: float
    at: datetime = Field(default_factory=utcnow)


class ModelComparison(SQLModel, table=True):
    """An A/B result: candidate vs baseline on the same held-out cases, with the decision it supports."""

    __tablename__ = "model_comparison"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    candidate_id: int = Field(foreign_key="model_version.id", index=True)
    baseline_id: int = Field(foreign_key="model_version.id")
    dataset_version_id: Optional[int] = Field(default=None, foreign_key="dataset_version.id")
    created_at: datetime = Field(default_factory=utcnow)
    recommend_promote: bool = False
    reason: str = ""
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TrainingSchedule(SQLModel, table=True):
    """Retrain a dataset's model after ``every_n_cases`` new validated cases or weekly (``weekday`` 0 = Monday)."""

    __tablename__ = "training_schedule"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    every_n_cases: Optional[int] = None
    weekday: Optional[int] = None
    hour_utc: int = 2
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_run_at: Optional[datetime] = None
    cases_at_last_run: int = 0
    next_run_at: Optional[datetime] = None


class ModelAlert(SQLModel, table=True):
    """Something the admin must see: a failed run, an automatic rollback, low disk."""

    __tablename__ = "model_alert"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    category: str = Field(description="training_failed | auto_rollback | degraded | low_disk")
    message: str
    model_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    run_id: Optional[int] = Field(default=None, foreign_key="training_run.id")
    acknowledged: bool = False


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


# --- shadow and preference ---------------------------------------------------------------------
# (shadow (canary) runs of candidate models and blind preference choices; migration 0009)
# Statuses and choices are plain strings here; their enums live in medstation.training.shadow / .preference.


class ShadowCase(SQLModel, table=True):
    """A candidate model's output for a real request, stored beside the active model's; never shown as the answer.

    ``reference`` names what the user later accepted (``note:<id>``: its signed text; ``series:<uid>``: an
    accepted segment whose prompts hold the same slice and box); ``outcome`` holds both models' scores
    against it once known. Masks live in the ``.npz`` at ``mask_path`` (keys ``active``, ``candidate``).
    """

    __tablename__ = "shadow_case"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True, description="segmentation | llm (ModelKind value)")
    status: str = Field("done", index=True, description="done | failed (ShadowStatus)")
    active_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    candidate_version_id: int = Field(foreign_key="model_version.id", index=True)
    inputs_sha256: str = Field("", index=True, description="sha256 of what both models were given")
    reference: str = Field("", index=True, description="note:<id> | series:<uid>")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                    description="note/session/template ids, or slice, box, window, modality")
    active_output: str = Field("", description="notes: the active draft's text")
    candidate_output: str = Field("", description="notes: the candidate draft's text")
    mask_path: str = Field("", description="segmentation: .npz with uint8 (y, x) masks 'active' and 'candidate'")
    vs_active: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                      description="candidate vs active output: dice, or rougeL and edit_similarity")
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                    description="{} until the user accepted/signed; then both models vs that")
    candidate_provenance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str = ""
    requested_by: str = ""
    requested_at: datetime = Field(default_factory=utcnow, description="when the active answer was delivered")
    finished_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None


class PreferenceChoice(SQLModel, table=True):
    """A blind A/B choice in a clinical tab: two unlabelled outputs shown in ``shown_order``, one picked (or neither)."""

    __tablename__ = "preference_choice"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True, description="segmentation | llm (ModelKind value)")
    active_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    candidate_version_id: int = Field(foreign_key="model_version.id", index=True)
    shown_order: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                   description='which model was shown as A and as B, e.g. ["candidate", "active"]')
    session_seed: str = Field("", description="the per-session seed the order was drawn from")
    request_index: int = Field(0, description="n-th blind request of that session (0-based)")
    chosen: str = Field(description="active | candidate | neither (PreferenceOutcome)")
    chosen_version_id: Optional[int] = Field(default=None, foreign_key="model_version.id")
    inputs_sha256: str = ""
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    chosen_by: str = ""
    shown_at: datetime = Field(default_factory=utcnow)
    chosen_at: datetime = Field(default_factory=utcnow)
