"""Store decided segments: the Segmentation row, its two mask files, its measurements.

Both masks are saved as compressed ``.npz`` (key ``mask``, uint8 (z, y, x) 0/1)
under ``<home>/segmentations/series-<sha256 of the series uid>/``: the model's unedited output
(``ai_mask_path``) and the human-corrected one (``mask_path``), so the pair can
train a later model. In clinic mode (``shared_data_root``) they go to the shared root instead,
content-addressed (``objects/ab/<sha256>.npz``, :mod:`medstation.store.objects`), so every
workstation reads the same file. Either way the row stores each file's sha256
(``mask_sha256``, ``ai_mask_sha256``) and every read verifies it. Files are written and fsynced
before the row is committed; a file referenced by a row is never deleted.

Provenance: the row's ``model_version_id`` is the version that *drew* the mask,
read from its prompt records (a blind-pick candidate's prompt names its version;
every other model prompt names the weights, ``litemedsam:<sha256[:12]>``, looked
up in the registry), not the version active when it was accepted. A mask with no
model prompt and no model output (brush only) is human-made: engine
:data:`HUMAN_MADE`, no model version, so it never counts as an edited AI mask.
A mask file a row names but the disk lacks is an error (:class:`MaskFileMissing`),
never an empty mask.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from medstation.segmentation.measure import SegmentMeasurements
from medstation.store.objects import FileIntegrityError, StoredFile, put_file, put_object, read_verified
from medstation.store.tables import Measurement, ModelKind, ModelVersion, Segmentation, SegmentationStatus

HUMAN_MADE = "manual"  # the engine label of a human-made mask (brush/eraser only, no model output)


class MaskFileMissing(FileIntegrityError, FileNotFoundError):
    """A stored segmentation names a mask file that is not on disk (moved, deleted or never restored)."""


class MaskFileChanged(FileIntegrityError, ValueError):
    """A stored segmentation's mask file does not hash to the sha256 its row recorded."""


@dataclass(frozen=True)
class SegmentRecord:
    """A plain snapshot of a segment, safe to hand from the GUI thread to a job."""

    series_uid: str
    name: str
    color: str
    mask: np.ndarray  # uint8 (z, y, x)
    ai_mask: np.ndarray  # uint8 (z, y, x), the model output before any edit
    engine: str
    model_version_id: int | None
    prompts: list[dict] = field(default_factory=list)
    stored_id: int | None = None


@dataclass(frozen=True)
class StoredSegment:
    """A saved segment read back from the store (status accepted | rejected | draft)."""

    id: int
    series_uid: str
    name: str
    color: str
    status: str
    mask: np.ndarray  # uint8 (z, y, x)
    ai_mask: np.ndarray  # uint8 (z, y, x)
    engine: str
    model_version_id: int | None
    prompts: list[dict] = field(default_factory=list)


PROMPT_RECORD_VERSION = 1


def prompt_entry(slice_index: int, prediction) -> dict:
    """The provenance entry of one model prompt on axial slice ``slice_index`` (what training reads).

    ``prediction`` is a :class:`~medstation.segmentation.engine.MaskPrediction`. Keys:
    ``v`` (this record's schema version), ``slice`` (0-based), ``box`` ([x0, y0, x1, y1] pixels or None),
    ``points`` ([[x, y, label], ...] pixels; label 1 include, 0 exclude), ``box_margin_model_px``, ``score`` (model's IoU estimate, 3 decimals), ``pixels`` (mask area).
    """
    return {
        "v": PROMPT_RECORD_VERSION,
        "slice": int(slice_index),
        **prediction.prompt_record(),
        "score": round(float(prediction.score), 3),
        "pixels": int(np.count_nonzero(prediction.mask)),
    }


def propagation_entry(slice_index: int, start_slice: int) -> dict:
    """The provenance entry of a slice filled by propagation from ``start_slice``."""
    return {"v": PROMPT_RECORD_VERSION, "slice": int(slice_index), "propagated_from": int(start_slice)}


def load_stored_segments(db, series_uid: str, statuses=("accepted",)) -> list[StoredSegment]:
    """Saved segments of ``series_uid`` with one of ``statuses``, oldest first; unreadable mask files are skipped
    (logged), never raised: the rest of the series' work still loads."""
    import logging

    from sqlmodel import select

    rows = []
    with db.session() as s:
        for row in s.exec(select(Segmentation).where(Segmentation.series_uid == series_uid)
                          .order_by(Segmentation.id)).all():
            if str(getattr(row.status, "value", row.status)) in statuses:
                rows.append((int(row.id), row.name, row.color, str(getattr(row.status, "value", row.status)),
                             (row.mask_path, row.mask_sha256), (row.ai_mask_path, row.ai_mask_sha256), row.engine,
                             row.model_version_id, list(row.prompts)))
    out = []
    for seg_id, name, color, status, (mask_path, mask_sha), (ai_path, ai_sha), engine, mv_id, prompts in rows:
        try:
            mask = read_npz(mask_path, mask_sha)
            # An empty path: a human-made mask stored without model output; a path that is missing: an error.
            ai_mask = read_npz(ai_path, ai_sha) if ai_path else np.zeros_like(mask)
        except (OSError, KeyError, ValueError) as exc:  # MaskFileMissing / MaskFileChanged included
            logging.getLogger(__name__).warning("segmentation #%s: cannot read %s: %s", seg_id, mask_path, exc)
            continue
        out.append(StoredSegment(seg_id, series_uid, name, color, status, mask, ai_mask, engine, mv_id, prompts))
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "series"


def series_folder_name(series_uid: str) -> str:
    """A folder name for a series that is never built from the DICOM value itself (a UID of ``..``
    or ``/etc`` must not choose where masks go): a digest of it."""
    return "series-" + hashlib.sha256(series_uid.encode("utf-8", "replace")).hexdigest()[:24]


def npz_bytes(mask: np.ndarray) -> bytes:
    """The compressed ``.npz`` (key ``mask``, uint8) of ``mask``, as bytes (hashed before it is written)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, mask=np.asarray(mask, np.uint8))
    return buffer.getvalue()


def write_mask(mask: np.ndarray, *, folder: Path, name: str, shared_root: Path | None) -> StoredFile:
    """Store one mask: content-addressed under ``shared_root`` (clinic mode), else ``folder/name``."""
    data = npz_bytes(mask)
    return put_object(shared_root, data, ".npz") if shared_root is not None else put_file(folder, name, data)


def read_npz(path: str | Path, sha256: str = "") -> np.ndarray:
    """The uint8 mask stored at ``path``, verified against ``sha256`` when the row recorded one.

    :class:`MaskFileMissing` when the file is not there, :class:`MaskFileChanged` when its bytes differ."""
    if not path or not Path(path).is_file():
        raise MaskFileMissing(f"mask file missing: {path or '(no path)'}")
    try:
        data = read_verified(path, sha256, what="mask file")
    except FileIntegrityError as exc:
        raise MaskFileChanged(str(exc)) from None
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return arrays["mask"]


def _model_prompts(prompts: list[dict]) -> list[dict]:
    """Prompt records of model runs (box or points), oldest first; propagation and edits are not prompts."""
    return [p for p in prompts if isinstance(p, dict) and ("box" in p or "points" in p)
            and "propagated_from" not in p]


def _version_by_weights(db, model: str) -> int | None:
    """Registry id of the segmentation version whose sha256 starts with the ``engine:sha12`` in ``model``."""
    from sqlmodel import select

    prefix = model.rpartition(":")[2]
    if len(prefix) < 12:
        return None
    with db.session() as s:
        found = s.exec(select(ModelVersion.id).where(ModelVersion.kind == ModelKind.segmentation,
                                                     ModelVersion.sha256.startswith(prefix))).all()
    return int(found[0]) if len(found) == 1 else None


def producing_version(db, record: SegmentRecord) -> tuple[int | None, str]:
    """(model version id, engine label) of whatever drew ``record``'s mask.

    The newest model prompt decides: its ``model_version_id`` (a blind pick records the version it
    showed), else the registry version of its weights (``model``). Prompts that name neither
    (records written before they did; propagated slices) fall back to ``record.model_version_id``.
    No model prompt and an empty AI mask: human-made, ``(None, HUMAN_MADE)``."""
    prompts = _model_prompts(record.prompts)
    if not prompts and not np.asarray(record.ai_mask).any():
        return None, HUMAN_MADE
    for prompt in reversed(prompts):
        if prompt.get("model_version_id") is not None:
            return int(prompt["model_version_id"]), record.engine
        if prompt.get("model"):
            found = _version_by_weights(db, str(prompt["model"]))
            if found is not None:
                return found, record.engine
            break
    return record.model_version_id, record.engine


def save_decision(db, home: Path, record: SegmentRecord, decision: str, actor: str,
                  measurements: SegmentMeasurements | None, *, shared_root: Path | None = None) -> int:
    """Insert or update the Segmentation row with ``decision`` (accepted | rejected | draft); returns its id.

    ``shared_root``: clinic mode, the masks go to the shared data root (content-addressed), not ``home``."""
    status = SegmentationStatus(decision)
    version_id, engine = producing_version(db, record)
    folder = Path(home) / "segmentations" / series_folder_name(record.series_uid)
    stem = uuid.uuid4().hex[:12]
    mask_file = write_mask(record.mask, folder=folder, name=f"{stem}_mask.npz", shared_root=shared_root)
    ai_file = write_mask(record.ai_mask, folder=folder, name=f"{stem}_ai.npz", shared_root=shared_root)
    decided_at = datetime.now(timezone.utc) if status != SegmentationStatus.draft else None
    with db.session() as s:
        row = s.get(Segmentation, record.stored_id) if record.stored_id else None
        if row is None:
            row = Segmentation(series_uid=record.series_uid, name=record.name)
        row.name, row.color, row.status = record.name, record.color, status
        row.engine, row.model_version_id, row.prompts = engine, version_id, list(record.prompts)
        row.mask_path, row.ai_mask_path = str(mask_file.path), str(ai_file.path)
        row.mask_sha256, row.ai_mask_sha256 = mask_file.sha256, ai_file.sha256
        row.decided_by, row.decided_at = (actor, decided_at) if decided_at else ("", None)
        s.add(row)
        s.flush()
        for old in s.exec(_measurements_of(row.id)).all():
            s.delete(old)
        if measurements is not None:
            for name, value, unit, slice_index in measurements.rows():
                s.add(Measurement(segmentation_id=row.id, name=name, value=float(value), unit=unit,
                                  slice_index=slice_index))
        seg_id = int(row.id)
        db.audit(f"segmentation.{status.value}", actor=actor, entity="segmentation", entity_id=seg_id,
                 series_uid=record.series_uid, name=record.name, engine=engine,
                 model_version_id=version_id, voxels=int(np.count_nonzero(record.mask)), session=s)
    return seg_id


def _measurements_of(segmentation_id: int):
    from sqlmodel import select

    return select(Measurement).where(Measurement.segmentation_id == segmentation_id)
