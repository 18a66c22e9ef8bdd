"""``medstation train-agent``: claim a queued run, train it in the ordinary worker, heartbeat, upload, register.

One run at a time per agent. For each claimed run the agent

1. starts the training worker (``python -m medstation train-worker --run-id N``, the same entry the
   window uses) as a child that dies with the agent (Linux ``PR_SET_PDEATHSIG``): a killed agent
   leaves no orphan still training, so its run can be requeued without ever being trained twice;
2. heartbeats every ``heartbeat_s`` while the worker runs; a heartbeat that finds the claim gone
   (requeued because this agent looked dead) stops the worker at once;
3. after the worker: a succeeded run's model file is copied into the shared data root
   (``models/<kind>-<sha256[:16]><suffix>``, hash checked) and registered there (the registry
   follows the moved file); a run the worker left unfinished is given back to the queue.

Database errors (a restarting server) are waited out: the heartbeat retries on the next beat
and the end-of-run bookkeeping retries until the server answers again.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from medstation.store.tables import TrainingRunStatus
from medstation.training import runs
from medstation.training.agent import claims

log = logging.getLogger(__name__)
WORKER_ARGV = (sys.executable, "-m", "medstation", "train-worker")


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the agent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the stale-heartbeat requeue still applies
        pass


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class TrainingAgent:
    """Claims and runs queued runs of ``kinds``; ``worker_argv`` is the worker command (``--run-id N`` is added)."""

    db: object
    registry: object
    shared_root: Path | None
    kinds: tuple[str, ...] = ("segmentation", "llm")
    identity: claims.AgentIdentity = field(default_factory=claims.AgentIdentity)
    heartbeat_s: float = 5.0
    stale_after_s: float = 60.0
    max_attempts: int = 3
    worker_argv: tuple[str, ...] = WORKER_ARGV
    db_retry_s: float = 120.0

    def serve(self, *, once: bool = False, poll_s: float = 10.0, stop=lambda: False) -> list[int]:
        """Run queued runs until ``stop()`` (``once``: at most one run, then return). Returns the run ids done."""
        done = []
        while not stop():
            run_id = self.run_one()
            if run_id is not None:
                done.append(run_id)
            if once:
                break
            if run_id is None:
                time.sleep(poll_s)
        return done

    def run_one(self) -> int | None:
        """Requeue stale claims, claim one run and see it through; None when nothing waits."""
        claims.requeue_stale(self.db, self.registry, stale_after_s=self.stale_after_s, actor=self.identity.name,
                             max_attempts=self.max_attempts)
        claimed = claims.claim_next(self.db, self.identity, self.kinds)
        if claimed is None:
            return None
        info, token = claimed
        log.info("claimed training run #%s (%s)", info.id, info.kind)
        lost = self._train(info, token)
        self._after(info, token, lost)
        return info.id

    def _train(self, info: runs.RunInfo, token: str) -> bool:
        """Run the worker while heartbeating; True when the claim was lost (and the worker stopped)."""
        Path(info.run_dir).mkdir(parents=True, exist_ok=True)
        worker = subprocess.Popen([*self.worker_argv, "--run-id", str(info.id)], preexec_fn=_die_with_parent,
                                  env=self._worker_env(info.id), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    worker.wait(timeout=self.heartbeat_s)
                    return False
                except subprocess.TimeoutExpired:
                    pass
                try:
                    if not claims.heartbeat(self.db, info.id, token):
                        log.warning("run #%s was taken from this agent; stopping its worker", info.id)
                        return True
                except DBAPIError as exc:  # the server is away: keep training, beat again later
                    log.warning("heartbeat for run #%s failed (%s); retrying", info.id, exc.__class__.__name__)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    def _worker_env(self, run_id: int) -> dict[str, str]:
        """The environment plus the worker ticket (once the store has accounts, workers need one)."""
        env = dict(os.environ)
        key = self.db.anchor.key()
        if key is not None:
            from medstation.access.headless import ENV_WORKER_TICKET, worker_ticket

            env[ENV_WORKER_TICKET] = worker_ticket(key, ["train-worker", "--run-id", str(run_id)])
        return env

    def _after(self, info: runs.RunInfo, token: str, lost: bool) -> None:
        if lost:
            return
        deadline = time.monotonic() + self.db_retry_s
        while True:
            try:
                self._settle(info, token)
                return
            except DBAPIError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(min(2.0, self.heartbeat_s))

    def _settle(self, info: runs.RunInfo, token: str) -> None:
        current = runs.get(self.db, info.id)
        if current.status == TrainingRunStatus.succeeded and current.model_version_id:
            self._upload(current.model_version_id, info.id)
        elif current.status == TrainingRunStatus.running:
            registered = claims.registered_model(self.registry, info.id)
            if registered is not None:  # registered, then the worker died before finishing: it counts
                runs.finish(self.db, info.id, TrainingRunStatus.succeeded, model_version_id=registered)
                self._upload(registered, info.id)
            else:
                claims.release(self.db, info.id, token, reason="the training worker stopped without finishing",
                               max_attempts=self.max_attempts)

    def _upload(self, version_id: int, run_id: int) -> None:
        """Copy the candidate into the shared root (hash checked) and register it there."""
        if self.shared_root is None:
            return
        version = self.registry.get(version_id)
        source = Path(version.path)
        if not source.is_file():
            return  # already moved, or a folder the registry tracks as it is
        dest = Path(self.shared_root) / "models" / f"{version.kind.value}-{version.sha256[:16]}{source.suffix}"
        if source.resolve() == dest.resolve():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".partial")
        shutil.copy2(source, partial)
        if _sha256(partial) != version.sha256:
            partial.unlink(missing_ok=True)
            raise OSError(f"the copy of model #{version_id} in {dest.parent} does not match its sha256")
        partial.replace(dest)
        self.registry.register(version.kind, version.name, dest, sha256=version.sha256)
        self.db.audit("training.agent_upload", actor=self.identity.name, entity="model_version",
                      entity_id=version_id, run_id=run_id, path=str(dest))
