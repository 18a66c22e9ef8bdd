"""A small hyperparameter search for LiteMedSAM fine-tuning: learning rate × epochs, judged on the validation split.

An option, never the default (``medstation train segmentation --search``, the Admin tab's "search"
box). One *search run* (a ``training_run`` whose params hold ``search`` = the grid) owns the
search; each grid point is a *trial*: its own queued run (params ``trial_of`` = the search run)
executed in a child ``train-worker`` through the process lane like any run. A trial trains on
the train split, validates on the validation split after every epoch and keeps its best
weights in its run folder; it registers nothing. The test split is never read: it stays
untouched for the A/B comparison that decides promotion.

After the grid, the best trial (highest best-epoch validation Dice; ties go to fewer epochs,
then the smaller learning rate) is handed to the search run's own worker, which saves,
ONNX-checks and registers only those weights as the candidate. Every trial — hyperparameters,
validation Dice before and after, best epoch, seconds, run id, or the failure — is stored in
the search run's ``params["trials"]`` as it finishes, and in the candidate's hyperparameters.
A failing trial is recorded and skipped; when every trial fails the search run fails.

Trials of decoder-only mode share one embedding cache (``<search run>/embeddings``), so the
encoder runs once per image for the whole grid.

The LLM (LoRA) search is not offered: ``training.lora`` computes no validation loss yet, so a
grid there would have nothing to choose by.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from medstation.errors import UserFacingError
from medstation.jobs import Cancelled, JobContext
from medstation.store.tables import TrainingRun, TrainingRunStatus
from medstation.training import runs
from medstation.training.litemedsam.run import TRIAL_WEIGHTS

SCHEMA_VERSION = 1


class SearchError(UserFacingError):
    """A search that cannot start (no validation cases, a bad grid) or whose every trial failed."""


@dataclass(frozen=True)
class SearchGrid:
    """Learning rates (AdamW) × epoch counts; every combination is one trial."""

    lrs: tuple[float, ...]
    epochs: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.lrs or not self.epochs or any(lr <= 0 for lr in self.lrs) or any(e < 1 for e in self.epochs):
            raise SearchError("A search grid needs positive learning rates and epoch counts of at least 1.")

    def points(self) -> list[dict]:
        return [{"lr": float(lr), "epochs": int(e)} for lr in self.lrs for e in self.epochs]

    def to_json(self) -> dict:
        return {"lr": list(self.lrs), "epochs": list(self.epochs)}


def default_grid(mode: str, epochs: int) -> SearchGrid:
    """3 learning rates around the mode's default (÷3, ×1, ×3) × (half the epochs, the epochs): ≤ 6 trials."""
    base = 1e-4 if mode == "decoder" else 2e-5
    counts = tuple(sorted({max(1, epochs // 2), max(1, epochs)}))
    return SearchGrid((round(base / 3, 8), base, round(base * 3, 8)), counts)


def parse_list(text: str, kind=float) -> tuple:
    """``"1e-4,3e-4"`` → (0.0001, 0.0003); a user error for anything unreadable."""
    try:
        values = tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise SearchError(f"Cannot read {text!r} as a comma-separated list of numbers.") from exc
    if not values:
        raise SearchError("An empty list of values cannot be searched.")
    return values


@dataclass(frozen=True)
class TrialRecord:
    """One grid point's outcome; ``val_dice`` is the best validation Dice over its epochs (None if it failed)."""

    index: int
    lr: float
    epochs: int
    run_id: int
    status: str  # succeeded | failed
    val_dice: float | None = None
    baseline_val_dice: float | None = None
    best_epoch: int | None = None
    seconds: float = 0.0
    error: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict:
        return asdict(self)


def best_trial(trials: list[TrialRecord]) -> TrialRecord | None:
    ok = [t for t in trials if t.status == "succeeded" and t.val_dice is not None]
    return max(ok, key=lambda t: (t.val_dice, -t.epochs, -t.lr)) if ok else None


def update_run_params(db, run_id: int, **changes) -> None:
    with db.write_session() as s:
        row = s.get(TrainingRun, run_id)
        row.params = {**dict(row.params or {}), **changes}  # a new dict: the JSON column sees the change
        s.add(row)


def _mark_search_running(db, run_id: int) -> None:
    """The search run is held by this process while its trials run (so the queue starts nothing else)."""
    runs.mark_running(db, run_id, os.getpid())


class _Slice:
    """The search's context for one child run: its progress is mapped into ``[lo, hi]`` of the whole search
    and prefixed; partial results and cancellation pass straight through."""

    def __init__(self, outer: JobContext, lo: float, hi: float, prefix: str) -> None:
        self._outer, self._lo, self._hi, self._prefix = outer, lo, hi, prefix

    def report(self, fraction: float, message: str = "") -> None:
        self._outer.report(self._lo + (self._hi - self._lo) * max(0.0, min(1.0, fraction)),
                           f"{self._prefix}: {message}")

    def partial(self, obj) -> None:
        self._outer.partial(obj)

    def check(self) -> None:
        self._outer.check()

    @property
    def cancelled(self) -> bool:
        return self._outer.cancelled


def run_search(ctx: JobContext, db, search: runs.RunInfo, grid: SearchGrid, *,
               run_worker: Callable[[JobContext, int], dict]) -> dict:
    """Job (process lane): the trials of ``search``, then its registration of the best; returns that result
    plus ``search`` = {grid, trials, best}. ``run_worker(ctx, run_id)`` runs one queued run in a child
    ``train-worker`` (``TrainingService.run_queued``) and returns its result line."""
    _mark_search_running(db, search.id)
    records: list[TrialRecord] = []
    points = grid.points()
    try:
        for index, point in enumerate(points, 1):
            ctx.check()
            params = {**{k: v for k, v in search.params.items() if k not in ("search", "trials")},
                      **point, "trial_of": search.id, "trial": index}
            trial = runs.enqueue(db, _home_of(search), kind=search.kind, dataset_version_id=search.dataset_version_id,
                                 base_model_id=search.base_model_id, params=params, actor=search.requested_by)
            ctx.report((index - 1) / (len(points) + 1), f"search trial {index}/{len(points)}: lr {point['lr']:g}, "
                                                          f"{point['epochs']} epochs (run #{trial.id})")
            ctx.partial({"kind": "trial_start", "trial": index, "trials": len(points), "run_id": trial.id, **point})
            started = time.perf_counter()
            try:
                span = ((index - 1) / (len(points) + 1), index / (len(points) + 1))
                out = run_worker(_Slice(ctx, *span, f"trial {index}/{len(points)}"), trial.id)
                m = out.get("metrics", {})
                record = TrialRecord(index, point["lr"], point["epochs"], trial.id, "succeeded", m.get("val_dice"),
                                     m.get("baseline_val_dice"), m.get("best_epoch"),
                                     round(time.perf_counter() - started, 1))
            except Cancelled:
                raise
            except UserFacingError as exc:  # a failed trial (WorkerFailed, RunError): recorded, skipped
                record = TrialRecord(index, point["lr"], point["epochs"], trial.id, "failed",
                                     seconds=round(time.perf_counter() - started, 1), error=str(exc)[-600:])
            records.append(record)
            update_run_params(db, search.id, trials=[r.to_json() for r in records])
            ctx.partial({"kind": "trial_done", **record.to_json()})
        best = best_trial(records)
        if best is None:
            raise SearchError(f"Every one of the {len(records)} search trials failed; the first said: "
                              f"{records[0].error.strip().splitlines()[-1] if records and records[0].error else '?'}")
        update_run_params(db, search.id, lr=best.lr, epochs=best.epochs, best_trial_run_id=best.run_id)
        ctx.report(len(points) / (len(points) + 1), f"registering the best trial (run #{best.run_id}, "
                                                    f"lr {best.lr:g}, {best.epochs} epochs)")
        result = run_worker(_Slice(ctx, len(points) / (len(points) + 1), 1.0, "registering the best trial"),
                            search.id)
    except Cancelled:
        _finish_if_open(db, search.id, TrainingRunStatus.cancelled, "cancelled by the user during the search")
        raise
    except BaseException as exc:
        _finish_if_open(db, search.id, TrainingRunStatus.failed, f"{exc.__class__.__name__}: {exc}")
        raise
    _remove_other_trial_weights(db, records, keep=best.run_id)
    return {**result, "search": {"grid": grid.to_json(), "trials": [r.to_json() for r in records],
                                 "best": best.to_json()}}


def _home_of(search: runs.RunInfo) -> Path:
    return Path(search.run_dir).parents[1]  # <home>/training_runs/run-N


def _finish_if_open(db, run_id: int, status: TrainingRunStatus, error: str) -> None:
    if runs.get(db, run_id).status in (TrainingRunStatus.running, TrainingRunStatus.queued):
        runs.finish(db, run_id, status, error=error)


def _remove_other_trial_weights(db, records: list[TrialRecord], keep: int) -> None:
    """Trial weights other than the registered best are scratch files (never registered): free the disk."""
    for record in records:
        if record.run_id != keep:
            (Path(runs.get(db, record.run_id).run_dir) / TRIAL_WEIGHTS).unlink(missing_ok=True)
