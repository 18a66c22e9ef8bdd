"""Training datasets, runs, metrics, comparisons, schedules and alerts; shadow cases and blind preference choices."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


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


# --- shadow and preference ---------------------------------------------------------------------
# (shadow (canary) runs of candidate models and blind preference choices; migration 0009)
# Statuses and choices are plain strings here; their enums live in medstation.training.canary.shadow / .preference.


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
