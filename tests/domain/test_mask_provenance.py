"""Mask provenance (issue 19.6): the row names the version that drew the mask; brush-only masks are human-made
and never count as edited AI masks; a missing mask file is an error, not an empty mask.

All four fail on 1c99c71 (the row took the version active at accept time, predictions named no weights,
brush-only masks were credited to it and counted as edited, a missing AI file read back as zeros)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medstation.segmentation.records import SegmentRecord, load_stored_segments, save_decision


def _versions(settings, db):
    from medstation.store.model_registry import ModelRegistry

    registry = ModelRegistry(db)
    (settings.home / "active.pth").write_bytes(b"active weights")
    (settings.home / "cand.pth").write_bytes(b"candidate weights")
    active = registry.register("segmentation", "active", settings.home / "active.pth", status="active")
    candidate = registry.register("segmentation", "candidate", settings.home / "cand.pth")
    return registry, active, candidate


def _mask() -> np.ndarray:
    mask = np.zeros((2, 8, 8), np.uint8)
    mask[0, 2:6, 2:6] = 1
    return mask


def _row(db, seg_id):
    from medstation.store.tables import Segmentation

    with db.session() as s:
        row = s.get(Segmentation, seg_id)
        return row.model_version_id, row.engine


def test_a_blind_pick_candidate_is_credited_with_its_mask(settings, db):
    _, active, candidate = _versions(settings, db)
    prompt = {"v": 1, "slice": 0, "box": [1, 1, 7, 7], "points": [], "model_version_id": candidate.id,
              "preference_id": 3}
    # what the viewer hands over: the version active now, and the prompt record of what was shown
    record = SegmentRecord("1.2", "liver", "#fff", _mask(), _mask(), "litemedsam", active.id, [prompt])
    seg_id = save_decision(db, settings.home, record, "accepted", "dr", None)
    assert _row(db, seg_id) == (candidate.id, "litemedsam")


def test_the_prompt_record_names_the_weights_that_drew_the_mask(settings, db):
    from medstation.segmentation.engine import MaskPrediction
    from medstation.segmentation.records import prompt_entry

    _, active, candidate = _versions(settings, db)
    prediction = MaskPrediction(_mask()[0].astype(bool), 0.9, (1.0, 1.0, 7.0, 7.0),
                                model_version=f"litemedsam:{candidate.sha256[:12]}")
    entry = prompt_entry(0, prediction)
    assert entry["model"] == f"litemedsam:{candidate.sha256[:12]}"
    record = SegmentRecord("1.2", "liver", "#fff", _mask(), _mask(), "litemedsam", active.id, [entry])
    assert _row(db, save_decision(db, settings.home, record, "accepted", "dr", None)) == (candidate.id, "litemedsam")


def test_a_brush_only_mask_is_human_made_and_not_an_edited_ai_mask(settings, db):
    from medstation.training.monitoring import acceptance_rate

    _, active, _ = _versions(settings, db)
    brushed = SegmentRecord("1.2", "lesion", "#fff", _mask(), np.zeros((2, 8, 8), np.uint8), "", active.id, [])
    seg_id = save_decision(db, settings.home, brushed, "accepted", "dr", None)
    assert _row(db, seg_id) == (None, "manual")
    rate = acceptance_rate(db, active.id)
    assert rate.decided == 0 and rate.accepted_edited == 0


def test_a_missing_ai_mask_file_is_an_error_not_an_empty_mask(settings, db):
    from medstation.segmentation.records import MaskFileMissing, read_npz
    from medstation.store.tables import Segmentation
    from medstation.training.monitoring import acceptance_rate

    _, active, _ = _versions(settings, db)
    prompt = {"v": 1, "slice": 0, "box": [1, 1, 7, 7], "points": []}
    record = SegmentRecord("1.2", "liver", "#fff", _mask(), _mask(), "litemedsam", active.id, [prompt])
    seg_id = save_decision(db, settings.home, record, "accepted", "dr", None)
    with db.session() as s:
        ai_path = Path(s.get(Segmentation, seg_id).ai_mask_path)
    ai_path.unlink()
    with pytest.raises(MaskFileMissing, match="mask file missing"):
        read_npz(ai_path)
    assert load_stored_segments(db, "1.2") == []  # skipped (and logged), never shown with an empty AI mask
    rate = acceptance_rate(db, active.id)
    assert rate.unreadable == 1 and rate.accepted_edited == 0 and rate.decided == 0
