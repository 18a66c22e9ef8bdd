"""The persisted training queue: runs move queued → running → succeeded | failed | cancelled.

One run at a time: :func:`next_queued` hands out the oldest queued run only when
none is running. The worker process owns its run's row while it runs (status,
epochs, metrics); the parent only marks a run failed or cancelled when the worker
is gone. :func:`recover_stale_runs` (called at start-up and before each run)
finishes the story of a worker that died without saying so: its run becomes
failed with the end of its log, unless the worker had already registered its
model (it died between registering and marking the run), which then counts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from medstation.errors import UserFacingError
from medstation.store.tables import ModelAlert, TrainingMetric, TrainingRun, TrainingRunStatus, utcnow

LOG_TAIL_CHARS = 4000


class RunError(UserFacingError):
    """A run that cannot be queued, started or read as asked."""


@dataclass(frozen=True)
class RunInfo:
    id: int
    kind: str
    status: TrainingRunStatus
    dataset_version_id: int | None
    base_model_id: int | None
    model_version_id: int | None
    params: dict
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    epochs_done: int
    run_dir: str
    error: str
    pid: int | None

    @property
    def log_path(self) -> Path:
        return Path(self.run_dir) / "worker.log"

    @property
    def progress(self) -> dict:
        """The worker's last stored progress ``{"fraction", "message", "at"}`` (empty before it starts)."""
        return dict(self.params.get("progress") or {})

    @property
    def model_label(self) -> str:
        """What the run left for the registry table: ``#5``, ``no change`` (beat nothing) or empty."""
        if self.model_version_id is not None:
            return f"#{self.model_version_id}"
        return "no change" if str(self.params.get("outcome", "")).startswith("no change") else ""

    @classmethod
    def from_row(cls, r: TrainingRun) -> "RunInfo":
        return cls(int(r.id), r.kind, TrainingRunStatus(r.status), r.dataset_version_id, r.base_model_id,
                   r.model_version_id, dict(r.params or {}), r.requested_by, r.created_at, r.started_at,
                   r.finished_at, r.epochs_done, r.run_dir, r.error, r.pid)


def enqueue(db, home: Path, *, kind: str, dataset_version_id: int | None, base_model_id: int | None,
            params: dict, actor: str, action: str = "training.enqueue", session: Session | None = None,
            **detail) -> RunInfo:
    """Queue a run, audited once as ``action`` (with ``detail``) in the same transaction. With ``session``
    the row is part of the caller's transaction (a schedule marked as ran with it); its folder is made now,
    and an empty folder left by a rolled-back caller is harmless (the next run of that id reuses it)."""
    if session is not None:
        info = _enqueue_in(session, db, home, kind, dataset_version_id, base_model_id, params, actor, action, detail)
    else:
        with db.session() as s:
            info = _enqueue_in(s, db, home, kind, dataset_version_id, base_model_id, params, actor, action, detail)
    Path(info.run_dir).mkdir(parents=True, exist_ok=True)
    return info


def _enqueue_in(s: Session, db, home: Path, kind: str, dataset_version_id: int | None, base_model_id: int | None,
                params: dict, actor: str, action: str, detail: dict) -> RunInfo:
    row = TrainingRun(kind=kind, dataset_version_id=dataset_version_id, base_model_id=base_model_id,
                      params=dict(params), requested_by=actor)
    s.add(row)
    s.flush()
    row.run_dir = str(Path(home) / "training_runs" / f"run-{row.id}")
    s.add(row)
    s.flush()
    info = RunInfo.from_row(row)
    db.audit(action, actor=actor, entity="training_run", entity_id=info.id, kind=kind,
             dataset_version_id=dataset_version_id, params=params, session=s, **detail)
    return info


def get(db, run_id: int) -> RunInfo:
    with db.session() as s:
        row = s.get(TrainingRun, run_id)
        if row is None:
            raise RunError(f"There is no training run #{run_id}.")
        return RunInfo.from_row(row)


def list_runs(db, limit: int = 50) -> list[RunInfo]:
    with db.session() as s:
        return [RunInfo.from_row(r) for r in s.exec(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit))]


def next_queued(db) -> RunInfo | None:
    """The oldest queued run, or None when one is already running or nothing waits."""
    with db.session() as s:
        if s.exec(select(TrainingRun.id).where(TrainingRun.status == TrainingRunStatus.running)).first() is not None:
            return None
        row = s.exec(select(TrainingRun).where(TrainingRun.status == TrainingRunStatus.queued)
                     .order_by(TrainingRun.id)).first()
        return RunInfo.from_row(row) if row is not None else None


def mark_running(db, run_id: int, pid: int) -> RunInfo:
    with db.write_session() as s:
        row = s.get(TrainingRun, run_id)
        if row is None:
            raise RunError(f"There is no training run #{run_id}.")
        if row.status not in (TrainingRunStatus.queued, TrainingRunStatus.running, TrainingRunStatus.failed):
            raise RunError(f"Run #{run_id} is {row.status}; it cannot start again.")
        row.status, row.pid, row.error = TrainingRunStatus.running, pid, ""
        row.started_at = row.started_at or utcnow()
        s.add(row)
        s.flush()
        return RunInfo.from_row(row)


def record_epoch(db, run_id: int, record: dict) -> None:
    """Store one epoch's metrics (``train_loss``, ``val_dice``, ``val_iou``, ``seconds``) and the epoch count."""
    with db.session() as s:
        for name in ("train_loss", "val_dice", "val_iou", "seconds"):
            value = record.get(name)
            if value is not None:
                s.add(TrainingMetric(run_id=run_id, epoch=int(record["epoch"]), name=name, value=float(value)))
        row = s.get(TrainingRun, run_id)
        row.epochs_done = max(row.epochs_done, int(record["epoch"]))
        s.add(row)


def record_progress(db, run_id: int, fraction: float, message: str) -> None:
    """Store a running run's progress in ``params["progress"]`` (``{"fraction", "message", "at"}``), so a window
    that did not start the run (the command line did) can follow it live."""
    with db.session() as s:
        row = s.get(TrainingRun, run_id)
        if row is None:
            return
        row.params = {**(row.params or {}), "progress": {"fraction": round(float(fraction), 4), "message": message,
                                                         "at": utcnow().isoformat()}}
        s.add(row)


class ProgressWriter:
    """``(fraction, message)`` → :func:`record_progress`, at most once per ``interval_s`` (a worker reports
    every optimiser step; the database needs far fewer writes). The last report of a phase change is kept."""

    def __init__(self, db, run_id: int, interval_s: float = 2.0) -> None:
        import time

        self.db, self.run_id, self.interval_s = db, run_id, interval_s
        self._clock = time.monotonic
        self._last = -interval_s
        self._phase = ""

    def __call__(self, fraction: float, message: str) -> None:
        phase = message.split(":", 1)[0]
        now = self._clock()
        if now - self._last >= self.interval_s or phase != self._phase:
            self._last, self._phase = now, phase
            try:
                record_progress(self.db, self.run_id, fraction, message)
            except Exception:  # noqa: BLE001 — a busy database must never stop training; the next report retries
                self._last = -self.interval_s


def metrics_of(db, run_id: int) -> dict[str, list[tuple[int, float]]]:
    """``{name: [(epoch, value), ...]}`` for a run's curves, epochs ascending."""
    out: dict[str, list[tuple[int, float]]] = {}
    with db.session() as s:
        for m in s.exec(select(TrainingMetric).where(TrainingMetric.run_id == run_id)
                        .order_by(TrainingMetric.epoch, TrainingMetric.id)):
            points = out.setdefault(m.name, [])
            if points and points[-1][0] == m.epoch:  # a resumed epoch written twice: keep the last
                points[-1] = (m.epoch, m.value)
            else:
                points.append((m.epoch, m.value))
    return out


def finish(db, run_id: int, status: TrainingRunStatus, *, error: str = "", model_version_id: int | None = None,
           outcome: str = "", audit_action: str = "", actor: str = "") -> None:
    """End a run; ``outcome``: what a succeeded run without a model came to (kept in ``params["outcome"]``).
    ``audit_action`` (e.g. ``training.withdraw``, by ``actor``): the event is written in the same transaction."""
    with db.session() as s:
        row = s.get(TrainingRun, run_id)
        row.status, row.finished_at, row.pid = status, utcnow(), None
        if outcome:
            row.params = {**(row.params or {}), "outcome": outcome}
        if error:
            row.error = error[-LOG_TAIL_CHARS:]
        if model_version_id is not None:
            row.model_version_id = model_version_id
        s.add(row)
        if status == TrainingRunStatus.failed:
            s.add(ModelAlert(category="training_failed", run_id=run_id,
                             message=f"Training run #{run_id} failed: {(error or 'no message').strip().splitlines()[-1][:300]}"))
        if audit_action:
            db.audit(audit_action, actor=actor, entity="training_run", entity_id=run_id, session=s)


def log_tail(info: RunInfo) -> str:
    try:
        return info.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
    except OSError:
        return ""


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not a worker any more
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def recover_stale_runs(db, registry=None) -> list[int]:
    """Runs marked running whose worker is gone become failed (or succeeded if their model was registered)."""
    with db.session() as s:
        stale = [RunInfo.from_row(r) for r in s.exec(select(TrainingRun).where(
            TrainingRun.status == TrainingRunStatus.running))
            if not _alive(r.pid) and not (r.params or {}).get("agent")]  # agents' runs: heartbeats (training.agent)
    fixed = []
    for info in stale:
        registered = None
        if registry is not None:
            registered = next((v for v in registry.history() if v.hyperparameters.get("run_id") == info.id), None)
        if registered is not None:
            finish(db, info.id, TrainingRunStatus.succeeded, model_version_id=registered.id)
        else:
            tail = log_tail(info)
            finish(db, info.id, TrainingRunStatus.failed,
                   error=f"the training process stopped without finishing (killed or crashed)\n{tail}")
        fixed.append(info.id)
    return fixed
