"""The imaging index (patients, studies, series, instances) and the de-identification pseudonym map."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


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
