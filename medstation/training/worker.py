"""``python -m medstation train-worker --run-id N``: one training run in a child process.

Speaks :mod:`medstation.worker_protocol` on stdout (progress, a partial per step and
per epoch, one result line); writes its log to ``<run_dir>/worker.log`` and stderr;
writes status and metrics to the database itself, so the curves survive the parent.

Crash safety, in order: checkpoints after each epoch (``last.pt``; a new start of the
same run resumes from it); the model file is written as ``.partial``, fsynced and
renamed; it is exported to ONNX and checked against torch; only then is it registered
(one registry transaction) and the run marked succeeded.

This module is the process door only: it reads the run, resolves its
:class:`~medstation.training.runs.plan.RunPlan` once (kind; plain, trial or register-best;
base checkpoint; rows; embedding cache) and hands it to ``litemedsam.run`` or ``lora.run``. A worker killed anywhere
before the registration leaves no model version; one killed after it is recognised
by :func:`medstation.training.runs.recover_stale_runs`.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import numpy as np

from medstation.access.encryption import open_store
from medstation.access.headless import bind_worker_actor
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import TrainingRunStatus
from medstation.training import runs
from medstation.training.litemedsam import run as litemedsam_run
from medstation.training.litemedsam.run import NO_CHANGE
from medstation.training.lora import run as lora_run
from medstation.training.runs.plan import RunRole, resolve_plan
from medstation.worker_protocol import emit_partial, emit_progress, emit_result

log = logging.getLogger("medstation.train_worker")


def _setup_log(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    for handler in (logging.FileHandler(run_dir / "worker.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def run_segmentation(settings: Settings, db, registry: ModelRegistry, info: runs.RunInfo, ctx: JobContext) -> dict:
    """A segmentation run: its plan resolved once, then trained (plain or trial) or its best trial registered."""
    plan = resolve_plan(settings, db, registry, info)
    if plan.role is RunRole.register_best:
        return litemedsam_run.register_best_trial(settings, db, registry, plan)
    return litemedsam_run.train(ctx, settings, db, registry, plan)


def run_llm(settings: Settings, db, registry: ModelRegistry, info: runs.RunInfo, ctx: JobContext) -> dict:
    """A LoRA drafting-adapter run (its plan resolved once)."""
    return lora_run.train(settings, db, registry, resolve_plan(settings, db, registry, info))


def main(run_id: int) -> int:
    settings = Settings()
    settings.ensure_dirs()
    db = open_store(settings)
    registry = ModelRegistry(db)
    info = runs.get(db, run_id)
    bind_worker_actor(db, info.requested_by)  # model.register and every other event name who started the run
    _setup_log(Path(info.run_dir))
    info = runs.mark_running(db, run_id, os.getpid())
    stored = runs.ProgressWriter(db, run_id)  # so a window that did not start this run follows it live

    def on_progress(fraction: float, message: str) -> None:
        emit_progress(fraction, message)
        stored(fraction, message)

    ctx = JobContext(on_progress=on_progress, on_partial=emit_partial)
    try:
        np.seterr(all="ignore")
        if info.kind == "segmentation":
            outcome = run_segmentation(settings, db, registry, info, ctx)
        elif info.kind == "llm":
            outcome = run_llm(settings, db, registry, info, ctx)
        else:
            raise runs.RunError(f"train-worker cannot train {info.kind!r} models (run #{run_id})")
    except BaseException as exc:  # noqa: BLE001 — every failure ends as a failed run with its log
        log.error("run %s failed:\n%s", run_id, traceback.format_exc())
        runs.finish(db, run_id, TrainingRunStatus.failed, error=f"{exc.__class__.__name__}: {exc}")
        db.close()
        if isinstance(exc, KeyboardInterrupt):
            return 130
        print(f"train-worker: {exc.__class__.__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    runs.finish(db, run_id, TrainingRunStatus.succeeded, model_version_id=outcome["model_version_id"],
                outcome=outcome.get("note") if outcome.get("outcome") == NO_CHANGE else "")
    # The resume checkpoint (model + optimiser, ~40 MB) has done its job: keeping it would grow every backup.
    (Path(info.run_dir) / "last.pt").unlink(missing_ok=True)
    log.info("run %s succeeded: %s", run_id, f"model version #{outcome['model_version_id']}"
             if outcome["model_version_id"] is not None else outcome.get("note"))
    db.close()
    emit_result({"run_id": run_id, **outcome})
    return 0
