"""The training agent on PostgreSQL: claim, heartbeat, upload, register; a killed agent's run is requeued and
finished once; a server restart loses no run and duplicates none."""

from __future__ import annotations

import os
import signal
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
from medstation.training.agent.agent import TrainingAgent
from medstation.training.agent.claims import AgentIdentity

ROOT = Path(__file__).resolve().parents[2]
FAKE_WORKER = (sys.executable, "-m", "tests.agent_fake_worker")
AGENT_PROCESS = r"""
import sys
from pathlib import Path
from medstation.access.encryption import open_store
from medstation.config import Settings
from medstation.store.model_registry import ModelRegistry
from medstation.training.agent.agent import TrainingAgent
from medstation.training.agent.claims import AgentIdentity
settings = Settings()
db = open_store(settings, migrate=False)
agent = TrainingAgent(db, ModelRegistry(db), settings.shared_data_root, kinds=("segmentation",),
                      identity=AgentIdentity(name=sys.argv[1]), heartbeat_s=0.5, stale_after_s=5,
                      worker_argv=(sys.executable, "-m", "tests.agent_fake_worker"))
print("ran", agent.serve(once=True), flush=True)
"""


@pytest.fixture
def clinic(settings, pg_url, tmp_path, monkeypatch):
    """A clinic environment: the server URL and a shared root in the settings (inherited by child processes)."""
    shared = tmp_path / "shared"
    monkeypatch.setenv("MEDSTATION_DATABASE_URL", pg_url)
    monkeypatch.setenv("MEDSTATION_SHARED_DATA_ROOT", str(shared))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    db = Database(pg_url, anchor_root=shared)
    yield db, shared
    db.close()


def _enqueue(db, home, n=1):
    return [runs.enqueue(db, home, kind="segmentation", dataset_version_id=None, base_model_id=None, params={},
                         actor="ada").id for _ in range(n)]


def _actions(db, run_id):
    with db.session() as s:
        return [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "training_run",
                                                                 AuditEvent.entity_id == str(run_id))
                                         .order_by(AuditEvent.id))]


def _models_of(registry, run_id):
    return [v for v in registry.history() if (v.hyperparameters or {}).get("run_id") == run_id]


def test_agent_claims_trains_uploads_and_registers(clinic, settings):
    db, shared = clinic
    registry = ModelRegistry(db)
    (run_id,) = _enqueue(db, settings.home)
    agent = TrainingAgent(db, registry, shared, kinds=("segmentation",), heartbeat_s=0.3,
                          identity=AgentIdentity(name="gpu-1"), worker_argv=FAKE_WORKER)
    assert agent.run_one() == run_id
    info = runs.get(db, run_id)
    assert info.status == TrainingRunStatus.succeeded
    (model,) = _models_of(registry, run_id)
    assert Path(model.path).parent == shared / "models" and file_sha256(Path(model.path)) == model.sha256
    assert info.params["agent"]["name"] == "gpu-1"  # which agent ran it stays on the run
    assert _actions(db, run_id)[:2] == ["training.enqueue", "training.claim"]
    assert agent.run_one() is None  # nothing else waits
    assert TrainingAgent(db, registry, shared, kinds=("llm",), worker_argv=FAKE_WORKER).run_one() is None


def _wait_for(predicate, timeout=120.0, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def test_killed_agent_run_is_requeued_and_finished_once(clinic, settings, monkeypatch):
    db, shared = clinic
    registry = ModelRegistry(db)
    (run_id,) = _enqueue(db, settings.home)
    monkeypatch.setenv("FAKE_TRAIN_STEPS", "200")  # long enough to be killed mid-run
    agent_a = subprocess.Popen([sys.executable, "-c", AGENT_PROCESS, "agent-a"], cwd=ROOT)
    try:
        assert _wait_for(lambda: runs.get(db, run_id).progress.get("fraction", 0) > 0), "worker never started"
        worker_pid = runs.get(db, run_id).pid
        agent_a.send_signal(signal.SIGKILL)
        agent_a.wait(timeout=30)
        assert _wait_for(lambda: not _pid_alive(worker_pid), timeout=30), "the worker outlived its agent"
    finally:
        if agent_a.poll() is None:
            agent_a.kill()
    assert runs.get(db, run_id).status == TrainingRunStatus.running  # claimed by a dead agent, until stale
    monkeypatch.setenv("FAKE_TRAIN_STEPS", "4")
    agent_b = TrainingAgent(db, registry, shared, kinds=("segmentation",), heartbeat_s=0.3, stale_after_s=5,
                            identity=AgentIdentity(name="agent-b"), worker_argv=FAKE_WORKER)
    assert agent_b.run_one() is None or runs.get(db, run_id).status == TrainingRunStatus.succeeded
    time.sleep(5.5)  # agent-a's last heartbeat is now older than stale_after_s
    if runs.get(db, run_id).status != TrainingRunStatus.succeeded:
        assert agent_b.run_one() == run_id
    info = runs.get(db, run_id)
    assert info.status == TrainingRunStatus.succeeded and info.params["agent"]["name"] == "agent-b"
    assert len(_models_of(registry, run_id)) == 1  # not lost, not trained into two models
    actions = _actions(db, run_id)
    assert actions.count("training.claim") == 2 and actions.count("training.requeue") == 1


def test_server_restart_loses_and_duplicates_no_run(settings, tmp_path, monkeypatch):
    from tests.pg_support import _sql, database_url

    started = subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "start"], capture_output=True,
                             text=True, timeout=120)
    if started.returncode != 0:
        pytest.skip(f"no second PostgreSQL cluster for the restart test: {started.stderr[-300:]}")
    admin, cluster = started.stdout.strip(), started.stderr.split("started in ", 1)[1].split(" ", 1)[0]
    try:
        _sql(admin, "CREATE DATABASE clinic")
        url = database_url(admin, "clinic")
        from medstation.store.database import upgrade_to_head
        from medstation.store.engine import make_server_engine

        engine = make_server_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        shared = tmp_path / "shared"
        for name, value in (("MEDSTATION_DATABASE_URL", url), ("MEDSTATION_SHARED_DATA_ROOT", str(shared)),
                            ("PYTHONPATH", str(ROOT)), ("FAKE_TRAIN_STEPS", "40")):
            monkeypatch.setenv(name, value)
        db = Database(url, anchor_root=shared)
        registry = ModelRegistry(db)
        run_ids = _enqueue(db, settings.home, n=2)
        agent = subprocess.Popen([sys.executable, "-c", AGENT_PROCESS, "agent-r"], cwd=ROOT)
        try:
            assert _wait_for(lambda: runs.get(db, run_ids[0]).progress.get("fraction", 0) > 0)
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "restart", cluster], check=True,
                           timeout=120)
            agent.wait(timeout=300)
        finally:
            if agent.poll() is None:
                agent.kill()
        monkeypatch.setenv("FAKE_TRAIN_STEPS", "4")
        rest = TrainingAgent(db, registry, shared, kinds=("segmentation",), heartbeat_s=0.3, stale_after_s=5,
                             identity=AgentIdentity(name="agent-s"), worker_argv=FAKE_WORKER)
        for _ in range(4):  # whatever the restart left queued (or claimed by a dead worker) is run now
            if all(runs.get(db, r).status == TrainingRunStatus.succeeded for r in run_ids):
                break
            if rest.run_one() is None:
                time.sleep(5.5)
        for run_id in run_ids:
            assert runs.get(db, run_id).status == TrainingRunStatus.succeeded
            assert len(_models_of(registry, run_id)) == 1
        db.close()
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", cluster], timeout=60)
