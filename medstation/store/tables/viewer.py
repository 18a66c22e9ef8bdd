"""Viewer work: segmentations (masks on disk, measurements here) and persistent rulers, ROIs and angles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from medstation.store.tables.common import utcnow


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
    mask_sha256: str = Field("", description="sha256 of the mask_path file, verified on every read ('' before 0010)")
    ai_mask_sha256: str = Field("", description="sha256 of the ai_mask_path file ('' before 0010)")
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
