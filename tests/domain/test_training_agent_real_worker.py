"""The training agent with the REAL training worker, on PostgreSQL (issue 25.5): ``medstation train-agent --once``,
started as its own process with its own data folder (another machine), claims a real queued segmentation run,
trains it in ``train-worker`` (a tiny decoder fine-tune), uploads the candidate to the shared root and registers it
in the clinic's registry. The kill and server-restart tests (tests/domain/test_training_agent.py) use a stand-in
worker; this one checks that the agent and the real worker fit together."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry, file_sha256
from medstation.store.tables import AuditEvent, TrainingRunStatus
from medstation.training import runs
from tests.agent_real_run import queue_tiny_run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_agent_process_trains_a_real_queued_run_and_registers_it_on_the_server(settings, pg_url, tmp_path):
    from tests.seg_support import seed_onnx_cache

    shared = tmp_path / "shared"
    db = Database(pg_url, anchor_root=shared)
    registry = ModelRegistry(db)
    run = queue_tiny_run(db, settings, registry)  # queued on "the workstation" (this process, its own home)

    agent_home = tmp_path / "agent-home"  # the training machine: its own data folder, cache and models
    seed_onnx_cache(agent_home / "cache")  # the base model's ONNX export, made once per test session
    env = {**os.environ, "MEDSTATION_HOME": str(agent_home), "MEDSTATION_DATABASE_URL": pg_url,
           "MEDSTATION_SHARED_DATA_ROOT": str(shared), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    agent = subprocess.run([sys.executable, "-m", "medstation", "train-agent", "--once", "--kinds", "segmentation",
                            "--heartbeat", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=800)
    seconds = time.monotonic() - started
    info = runs.get(db, run.id)
    log = Path(info.run_dir, "worker.log")
    assert agent.returncode == 0, agent.stderr[-2000:]
    assert info.status == TrainingRunStatus.succeeded, (info.error, log.read_text()[-2000:] if log.exists() else "")
    claim = info.params["agent"]  # claimed by that process, not by this one
    assert claim["pid"] != os.getpid() and f"train-agent {claim['name']}: ran 1 run(s) [{run.id}]" in agent.stdout

    model = registry.get(info.model_version_id)  # registered on the server, by the real worker
    assert model.status.value == "candidate" and model.hyperparameters["run_id"] == run.id
    assert model.parent_id == registry.active("segmentation").id
    assert model.metrics["val_dice"] > model.metrics["baseline_val_dice"]  # it did learn: no candidate otherwise
    assert model.metrics["onnx"]["onnx_vs_torch_dice"] >= 0.98
    assert Path(model.path).parent == shared / "models" and file_sha256(Path(model.path)) == model.sha256
    assert runs.metrics_of(db, run.id)["val_dice"]  # the epochs' curves are on the server for every Admin tab
    with db.session() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    for action in ("training.enqueue", "training.claim", "model.register", "training.agent_upload"):
        assert action in actions
    second = Database(pg_url, anchor_root=shared)  # another workstation sees the same candidate
    try:
        assert ModelRegistry(second).get(model.id).sha256 == model.sha256
    finally:
        second.close()
    db.close()
    print(f"agent process with the real worker: {seconds:.1f} s")
