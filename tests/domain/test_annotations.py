"""Measurements kept with their series: stored, listed in order, deleted, audited; the angle in true mm."""

from __future__ import annotations

import pytest
from sqlmodel import select

from medstation.imaging.annotations import (
    Annotation, AnnotationKind, angle_degrees, delete_annotation, load_annotations, save_annotation,
)
from medstation.store.tables import AuditEvent


def test_angle_in_mm_geometry():
    assert angle_degrees((10, 0), (0, 0), (0, 10)) == pytest.approx(90.0)
    assert angle_degrees((10, 0), (0, 0), (-10, 0)) == pytest.approx(180.0)
    # 10 columns of 0.5 mm and 5 rows of 1.0 mm: both arms are 5 mm, at 45 degrees to each other
    assert angle_degrees((10, 0), (0, 0), (10, 5), spacing_rc=(1.0, 0.5)) == pytest.approx(45.0)
    with pytest.raises(ValueError):
        angle_degrees((0, 0), (0, 0), (3, 3))


def test_annotations_round_trip_and_are_audited(db):
    a = save_annotation(db, Annotation("1.2", "axial", 3, AnnotationKind.ruler, ((1.0, 2.0), (5.0, 2.0)), "2.4 mm"),
                        "dr.who")
    b = save_annotation(db, Annotation("1.2", "axial", 3, AnnotationKind.angle,
                                       ((1.0, 1.0), (2.0, 2.0), (3.0, 1.0)), "90.0°"), "dr.who")
    save_annotation(db, Annotation("other", "axial", 0, AnnotationKind.roi, ((0, 0), (4, 4)), "mean 3"), "dr.who")
    assert [x.id for x in load_annotations(db, "1.2")] == [a.id, b.id]
    assert load_annotations(db, "1.2")[1] == b and b.describe() == "Angle · axial 4 · 90.0°"
    assert delete_annotation(db, a.id, "dr.who") and not delete_annotation(db, a.id, "dr.who")
    assert [x.id for x in load_annotations(db, "1.2")] == [b.id]
    with db.session() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions == ["annotation.add"] * 3 + ["annotation.delete"]
