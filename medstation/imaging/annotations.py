"""Measurements drawn on slices (ruler, ROI, angle), kept with their series.

An :class:`Annotation` lives on one slice of one plane; its ``points`` are
continuous pixel coordinates on that slice (x = column, y = row; pixel (r, c)
covers [c, c+1) × [r, r+1)). Ruler: 2 points; ROI: 2 opposite corners; angle:
3 points with the vertex in the middle. ``value_text`` is the value as shown
when it was drawn (ROI statistics depend on the pixels, which do not change).
Stored in the ``viewer_annotation`` table; every save and delete is audited.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

from medstation.store.tables import ViewerAnnotation

SCHEMA_VERSION = 1


class AnnotationKind(str, enum.Enum):
    ruler = "ruler"
    roi = "roi"
    angle = "angle"


@dataclass(frozen=True)
class Annotation:
    """One measurement; ``id`` is None until stored."""

    series_uid: str
    plane: str
    slice_index: int
    kind: AnnotationKind
    points: tuple[tuple[float, float], ...]
    value_text: str
    id: int | None = None
    schema_version: int = SCHEMA_VERSION

    def describe(self) -> str:
        """'Ruler · axial 4 · 18.2 mm' (slice numbers 1-based, as shown)."""
        name = {"ruler": "Ruler", "roi": "ROI", "angle": "Angle"}[self.kind.value]
        return f"{name} · {self.plane} {self.slice_index + 1} · {self.value_text}"


def angle_degrees(a, vertex, c, spacing_rc: tuple[float, float] = (1.0, 1.0)) -> float:
    """Angle at ``vertex`` between the arms to ``a`` and ``c`` (pixel x, y), in degrees, in true mm geometry.

    ``spacing_rc`` = (row spacing, column spacing) in mm, so a non-square pixel does not skew the angle.
    Raises ValueError when an arm has zero length.
    """
    dy, dx = (float(v) for v in spacing_rc)
    u = ((a[0] - vertex[0]) * dx, (a[1] - vertex[1]) * dy)
    w = ((c[0] - vertex[0]) * dx, (c[1] - vertex[1]) * dy)
    nu, nw = math.hypot(*u), math.hypot(*w)
    if nu == 0 or nw == 0:
        raise ValueError("an arm of the angle has zero length")
    cos = max(-1.0, min(1.0, (u[0] * w[0] + u[1] * w[1]) / (nu * nw)))
    return math.degrees(math.acos(cos))


def save_annotation(db, annotation: Annotation, actor: str = "") -> Annotation:
    """Insert ``annotation``; returns it with its id. Audited as ``annotation.add``."""
    with db.session() as s:
        row = ViewerAnnotation(series_uid=annotation.series_uid, plane=annotation.plane,
                               slice_index=int(annotation.slice_index), kind=annotation.kind.value,
                               points=[[float(x), float(y)] for x, y in annotation.points],
                               value_text=annotation.value_text, created_by=actor)
        s.add(row)
        s.flush()
        stored = replace(annotation, id=int(row.id))
        db.audit("annotation.add", actor=actor, entity="viewer_annotation", entity_id=stored.id,
                 series_uid=stored.series_uid, kind=stored.kind.value, value=stored.value_text, session=s)
    return stored


def load_annotations(db, series_uid: str) -> list[Annotation]:
    """Every stored annotation of ``series_uid``, oldest first."""
    from sqlmodel import select

    with db.session() as s:
        rows = s.exec(select(ViewerAnnotation).where(ViewerAnnotation.series_uid == series_uid)
                      .order_by(ViewerAnnotation.id)).all()
        return [Annotation(r.series_uid, r.plane, int(r.slice_index), AnnotationKind(r.kind),
                           tuple((float(x), float(y)) for x, y in r.points), r.value_text, int(r.id)) for r in rows]


def delete_annotation(db, annotation_id: int, actor: str = "") -> bool:
    """Delete one annotation; False when it was already gone. Audited as ``annotation.delete``."""
    with db.session() as s:
        row = s.get(ViewerAnnotation, int(annotation_id))
        if row is None:
            return False
        detail = {"series_uid": row.series_uid, "kind": row.kind, "value": row.value_text}
        s.delete(row)
        db.audit("annotation.delete", actor=actor, entity="viewer_annotation", entity_id=int(annotation_id),
                 session=s, **detail)
    return True


# Jobs for the io lane (``fn(ctx, ...)``), so the viewer never touches the database on the GUI thread.
def save_annotation_job(ctx, db, annotation: Annotation, actor: str = "") -> Annotation:
    ctx.check()
    return save_annotation(db, annotation, actor)


def load_annotations_job(ctx, db, series_uid: str) -> list[Annotation]:
    ctx.check()
    return load_annotations(db, series_uid)


def delete_annotation_job(ctx, db, annotation_id: int, actor: str = "") -> bool:
    return delete_annotation(db, annotation_id, actor)
