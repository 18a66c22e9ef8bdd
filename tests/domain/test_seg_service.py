"""Accept/reject: rows, both mask files, measurements, provenance and model registration."""

from __future__ import annotations

import numpy as np
from sqlmodel import select

from medstation.jobs import JobContext
from medstation.segmentation.records import SegmentRecord, read_npz
from medstation.access.roles import UserSession
from medstation.segmentation.service import SegmentationService, register_engine
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, Measurement, ModelStatus, ModelVersion, Segmentation
from tests.seg_support import engine, seed_onnx_cache, synthetic_volume


def test_engine_registered_once_as_active_model_version(settings, db):
    first = register_engine(ModelRegistry(db), engine())
    again = register_engine(ModelRegistry(db), engine())
    assert first == again
    with db.session() as s:
        row = s.get(ModelVersion, first)
        assert row.kind == "segmentation" and row.sha256 == engine().sha256
        assert row.status == ModelStatus.active and row.meta["engine"] == "litemedsam"


def test_service_loads_lazily_and_reports_status(settings, db):
    seed_onnx_cache(settings.cache_dir)
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    assert service.engine() is None and service.available_engines() == ["litemedsam"]
    loaded = service.ensure_engine(JobContext())
    assert service.engine() is loaded and service.model_version_id() is not None
    assert service.status["litemedsam"].startswith("LiteMedSAM ready")
    assert service.ensure_engine(JobContext()) is loaded  # once


def test_failed_load_is_reported_plainly(settings, db):
    settings.seg_engine = "medsam_vit_b"  # no checkpoint in models/
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    import pytest

    from medstation.segmentation.checkpoints import CheckpointError

    with pytest.raises(CheckpointError):
        service.ensure_engine(JobContext())
    assert service.status["medsam_vit_b"].startswith("Model failed to load: MedSAM ViT-B checkpoint not found")


def test_accept_stores_both_masks_measurements_and_audit(settings, db):
    volume, truth = synthetic_volume(shape=(5, 40, 48), radii_mm=(4.0, 10.0, 12.0))
    ai = truth.copy()
    corrected = truth.copy()
    corrected[2, 5:8, 5:8] = 1  # the human added a bit
    mv_id = register_engine(ModelRegistry(db), engine())
    record = SegmentRecord(series_uid=volume.series_uid, name="lesion", color="#ff4040", mask=corrected,
                           ai_mask=ai, engine="litemedsam", model_version_id=mv_id,
                           prompts=[{"slice": 2, "box": [10, 10, 30, 30], "points": []}])
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    result = service.decide(JobContext(), record, volume, "accepted", "dr.who")
    assert result["report"].startswith("Segment 'lesion': volume ")
    with db.session() as s:
        row = s.get(Segmentation, result["id"])
        assert row.status == "accepted" and row.decided_by == "dr.who" and row.decided_at is not None
        assert row.model_version_id == mv_id and row.prompts[0]["box"] == [10, 10, 30, 30]
        assert np.array_equal(read_npz(row.mask_path), corrected)
        assert np.array_equal(read_npz(row.ai_mask_path), ai)
        assert row.mask_path.startswith(str(settings.home))
        names = {m.name: m.value for m in s.exec(select(Measurement).where(Measurement.segmentation_id == row.id))}
        assert abs(names["volume_ml"] - result["measurements"].volume_ml) < 1e-9
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "segmentation.accepted")).first() is not None

    # rejecting it later updates the same row and replaces its measurements
    again = SegmentRecord(**{**record.__dict__, "stored_id": result["id"]})
    second = service.decide(JobContext(), again, volume, "rejected", "dr.who")
    assert second["id"] == result["id"]
    with db.session() as s:
        assert s.get(Segmentation, result["id"]).status == "rejected"
        count = len(s.exec(select(Measurement).where(Measurement.segmentation_id == result["id"])).all())
        assert count == len(result["measurements"].rows())
