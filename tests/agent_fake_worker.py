"""A quick stand-in for ``medstation train-worker`` in the training-agent tests (``python -m tests.agent_fake_worker``).

It keeps the real worker's contract with the database, which is all the agent relies on: mark the
run running with its pid, store progress, write a model file, register it with ``run_id`` in its
hyperparameters, finish the run. It trains nothing: the agent's claims, heartbeats, requeues and
uploads are what the tests check; the real worker is tested with the training package.
``FAKE_TRAIN_STEPS`` x ``FAKE_TRAIN_STEP_S`` sets how long it "trains".
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> int:
    from medstation.config import Settings
    from medstation.access.encryption import open_store
    from medstation.store.model_registry import ModelRegistry
    from medstation.store.tables import TrainingRunStatus
    from medstation.training import runs

    parser = argparse.ArgumentParser()
    parser.add_argument("--run-id", type=int, required=True)
    run_id = parser.parse_args().run_id
    settings = Settings()
    settings.ensure_dirs()
    db = open_store(settings, migrate=False)
    info = runs.mark_running(db, run_id, os.getpid())
    steps, step_s = int(os.environ.get("FAKE_TRAIN_STEPS", "8")), float(os.environ.get("FAKE_TRAIN_STEP_S", "0.25"))
    for step in range(steps):
        time.sleep(step_s)
        runs.record_progress(db, run_id, (step + 1) / steps, f"step {step + 1}/{steps}")
    path = settings.models_dir / f"agent-run{run_id}.pth"
    path.write_bytes(f"weights of run {run_id}\n".encode() * 64)
    version = ModelRegistry(db).register(info.kind, f"run{run_id}", path, hyperparameters={"run_id": run_id},
                                         source="fine-tuned")
    runs.finish(db, run_id, TrainingRunStatus.succeeded, model_version_id=version.id)
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
