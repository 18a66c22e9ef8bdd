"""After promotion: acceptance rates, automatic rollback, the provenance ledger and alerts.

Acceptance rate of a segmentation version = share of its decided masks (accepted or
rejected) that were accepted *without edits* (corrected mask equal to the AI mask,
Dice ≥ :data:`UNEDITED_DICE`). Only masks the version drew count: a human-made
(brush-only) mask carries no version, and a mask whose files are missing is
counted apart as unreadable, never as an edit. When the active version has at least ``min_cases``
decided masks and its rate is below its predecessor's by more than ``margin``,
:func:`check_auto_rollback` rolls back (one registry transaction) and leaves an
alert that says why.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from medstation.segmentation import metrics
from medstation.segmentation.records import HUMAN_MADE, read_npz
from medstation.store.tables import ModelAlert, ModelKind, Segmentation, SegmentationStatus

UNEDITED_DICE = 0.99
AUTO_ROLLBACK_ACTOR = "auto-rollback"
LOW_DISK_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class AcceptanceRate:
    version_id: int
    decided: int
    accepted_unedited: int
    accepted_edited: int
    rejected: int
    unreadable: int = 0  # accepted masks whose files are missing or broken: not judged either way

    @property
    def rate(self) -> float | None:
        return self.accepted_unedited / self.decided if self.decided else None


def acceptance_rate(db, version_id: int) -> AcceptanceRate:
    unedited = edited = rejected = unreadable = 0
    with db.session() as s:
        found = s.exec(select(Segmentation).where(
            Segmentation.model_version_id == version_id, Segmentation.engine != HUMAN_MADE,
            Segmentation.status.in_([SegmentationStatus.accepted, SegmentationStatus.rejected])))
        rows = [(r.status, (r.mask_path, r.mask_sha256), (r.ai_mask_path, r.ai_mask_sha256)) for r in found]
    for status, mask_ref, ai_ref in rows:  # refs: (path, sha256)
        if status == SegmentationStatus.rejected:
            rejected += 1
            continue
        try:
            ai = read_npz(*ai_ref)
            if not ai.any():  # no model output in it (stored before masks were labelled human-made)
                continue
            same = metrics.dice(read_npz(*mask_ref), ai) >= UNEDITED_DICE
        except (OSError, ValueError, KeyError):  # missing, or not the recorded bytes (MaskFileChanged)
            unreadable += 1
            continue
        unedited += same
        edited += not same
    return AcceptanceRate(version_id, unedited + edited + rejected, unedited, edited, rejected, unreadable)


def check_auto_rollback(db, registry, kind: str = "segmentation", *, margin: float, min_cases: int) -> str | None:
    """Roll back the active ``kind`` version if users reject it; returns the reason told to the admin, or None."""
    active = registry.active(kind)
    if active is None or active.previous_active_id is None or ModelKind(kind) != ModelKind.segmentation:
        return None
    now, before = acceptance_rate(db, active.id), acceptance_rate(db, active.previous_active_id)
    if now.decided < min_cases or before.rate is None or now.rate is None:
        return None
    if now.rate >= before.rate - margin:
        return None
    reason = (f"Automatic rollback of #{active.id} {active.name}: masks accepted without edits fell to "
              f"{now.rate:.0%} over {now.decided} cases, from {before.rate:.0%} for #{active.previous_active_id} "
              f"(more than the {margin:.0%} margin).")
    # One transaction: the rollback, its alert and its one audit event commit together or not at all.
    with db.write_session() as s:
        registry.rollback(kind, AUTO_ROLLBACK_ACTOR, action="model.auto_rollback", session=s, reason=reason,
                          rate=now.rate, predecessor_rate=before.rate)
        s.add(ModelAlert(category="auto_rollback", message=reason, model_version_id=active.id))
    return reason


def ledger(db, version_id: int) -> list[dict]:
    """Which masks came from version ``version_id``: id, segment name, status, who decided and when."""
    with db.session() as s:
        rows = s.exec(select(Segmentation).where(Segmentation.model_version_id == version_id)
                      .order_by(Segmentation.id)).all()
        return [{"kind": "mask", "id": int(r.id), "name": r.name, "status": str(getattr(r.status, "value", r.status)),
                 "decided_by": r.decided_by, "at": (r.decided_at or r.created_at).isoformat()} for r in rows]


def alerts(db, *, include_acknowledged: bool = False, home: Path | None = None) -> list[dict]:
    """Open alerts, newest first, plus a live low-disk alert for ``home``."""
    out = []
    if home is not None:
        free = shutil.disk_usage(home).free
        if free < LOW_DISK_BYTES:
            out.append({"id": None, "category": "low_disk", "message": f"Only {free / 1024**3:.1f} GB free under {home}",
                        "at": None})
    with db.session() as s:
        query = select(ModelAlert).order_by(ModelAlert.id.desc())
        if not include_acknowledged:
            query = query.where(ModelAlert.acknowledged == False)  # noqa: E712 (SQL expression)
        for a in s.exec(query.limit(50)):
            out.append({"id": int(a.id), "category": a.category, "message": a.message, "at": a.at.isoformat()})
    return out


def acknowledge(db, alert_id: int, actor: str) -> None:
    with db.session() as s:
        row = s.get(ModelAlert, alert_id)
        if row is not None:
            row.acknowledged = True
            s.add(row)
        db.audit("alert.acknowledge", actor=actor, entity="model_alert", entity_id=alert_id, session=s)
