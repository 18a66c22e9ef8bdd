"""Claims on queued training runs: one agent per run, kept alive by heartbeats, requeued when they stop.

A claim lives in the run's ``params["agent"]``: ``{"token", "name", "host", "pid", "claimed_at",
"heartbeat_at"}`` (ISO UTC). The run's status is ``running`` while claimed.

- :func:`claim_next` takes the oldest queued run of the wanted kinds with
  ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL: agents never wait on, nor take, a row
  another agent is claiming; SQLite: the file's write lock serialises claims).
- :func:`heartbeat` refreshes ``heartbeat_at`` only while the claim still carries this
  agent's token; False means the run was taken away (requeued) and the agent must stop it.
- :func:`requeue_stale` gives back runs whose heartbeat is older than ``stale_after_s``:
  a run whose model was already registered (the worker died between registering and
  finishing) is finished as succeeded; any other goes back to the queue, at most
  ``max_attempts`` times, then fails. Each step is audited.

The worker writes ``params["progress"]`` without this lock; a heartbeat and a progress write
racing can drop one beat or one progress tick, never the claim (the worker starts after the claim
is committed, so every copy it holds carries it). ``stale_after_s`` spans several beats for that reason.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import select

from medstation.store.engine import is_postgres
from medstation.store.tables import TrainingRun, TrainingRunStatus, utcnow
from medstation.training import runs


@dataclass(frozen=True)
class AgentIdentity:
    """Who claims: a readable name (default host:pid) and a per-claim token."""

    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


def _now_iso() -> str:
    return utcnow().isoformat()


def _session(db):
    """PostgreSQL: a plain transaction (row locks do the work); SQLite: the write lock first."""
    return db.session() if is_postgres(db.engine) else db.write_session()


def claim_next(db, agent: AgentIdentity, kinds: tuple[str, ...]) -> tuple[runs.RunInfo, str] | None:
    """Claim the oldest queued run of ``kinds``; returns (run, claim token) or None when none waits."""
    with _session(db) as s:
        row = s.exec(select(TrainingRun).where(TrainingRun.status == TrainingRunStatus.queued,
                                               TrainingRun.kind.in_(list(kinds)))
                     .order_by(TrainingRun.id).limit(1).with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        token, now = uuid.uuid4().hex, _now_iso()
        row.status, row.pid = TrainingRunStatus.running, None
        row.started_at = row.started_at or utcnow()
        row.params = {**(row.params or {}), "agent": {"token": token, "name": agent.name, "host": agent.host,
                                                      "pid": agent.pid, "claimed_at": now, "heartbeat_at": now}}
        s.add(row)
        s.flush()
        info = runs.RunInfo.from_row(row)
        db.audit("training.claim", actor=agent.name, entity="training_run", entity_id=row.id, kind=row.kind,
                 host=agent.host, session=s)
    return info, token


def heartbeat(db, run_id: int, token: str) -> bool:
    """Refresh the claim; False when the run is no longer claimed with ``token`` (requeued, maybe claimed again).

    A run its worker has just finished (still carrying this token) is True: nothing to refresh."""
    with _session(db) as s:
        row = s.exec(select(TrainingRun).where(TrainingRun.id == run_id).with_for_update()).first()
        claim = dict((row.params or {}).get("agent") or {}) if row is not None else {}
        if row is None or claim.get("token") != token:
            return False
        if TrainingRunStatus(row.status) != TrainingRunStatus.running:
            return True
        row.params = {**row.params, "agent": {**claim, "heartbeat_at": _now_iso()}}
        s.add(row)
    return True


def release(db, run_id: int, token: str, *, reason: str, max_attempts: int = 3) -> str:
    """Give a claimed run back (its worker stopped without finishing): queued again, or failed after
    ``max_attempts`` claims. Returns the new status value ("" when the claim was not ours any more)."""
    with _session(db) as s:
        row = s.exec(select(TrainingRun).where(TrainingRun.id == run_id).with_for_update()).first()
        claim = dict((row.params or {}).get("agent") or {}) if row is not None else {}
        if row is None or row.status != TrainingRunStatus.running or claim.get("token") != token:
            return ""
        return _give_back(db, s, row, claim, reason, max_attempts, actor=claim.get("name", ""))


def _give_back(db, s, row: TrainingRun, claim: dict, reason: str, max_attempts: int, *, actor: str) -> str:
    attempts = int((row.params or {}).get("agent_attempts", 0)) + 1
    params = {k: v for k, v in (row.params or {}).items() if k != "agent"}
    params["agent_attempts"] = attempts
    row.params, row.pid = params, None
    if attempts >= max_attempts:
        row.status, row.finished_at = TrainingRunStatus.failed, utcnow()
        row.error = f"{reason}; gave up after {attempts} agent attempts"
    else:
        row.status, row.started_at = TrainingRunStatus.queued, None
    s.add(row)
    db.audit("training.requeue" if TrainingRunStatus(row.status) == TrainingRunStatus.queued else "training.agent_failed", actor=actor,
             entity="training_run", entity_id=row.id, reason=reason, agent=claim.get("name", ""),
             attempts=attempts, session=s)
    return TrainingRunStatus(row.status).value


def heartbeat_age(claim: dict, now: datetime) -> float:
    try:
        beat = datetime.fromisoformat(claim["heartbeat_at"])
    except (KeyError, TypeError, ValueError):
        return float("inf")
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=timezone.utc)
    return (now - beat).total_seconds()


def requeue_stale(db, registry, *, stale_after_s: float, actor: str, max_attempts: int = 3) -> list[int]:
    """Runs whose agent stopped heartbeating: finished (model already registered) or given back."""
    now = utcnow()
    touched = []
    with _session(db) as s:
        rows = s.exec(select(TrainingRun).where(TrainingRun.status == TrainingRunStatus.running)
                      .order_by(TrainingRun.id).with_for_update(skip_locked=True)).all()
        for row in rows:
            claim = dict((row.params or {}).get("agent") or {})
            if not claim or heartbeat_age(claim, now) <= stale_after_s:
                continue  # a workstation's own local run, or an agent that is alive
            registered = registered_model(registry, row.id)
            if registered is not None:
                row.status, row.finished_at, row.pid = TrainingRunStatus.succeeded, utcnow(), None
                row.model_version_id = registered
                s.add(row)
                db.audit("training.agent_recovered", actor=actor, entity="training_run", entity_id=row.id,
                         model_version_id=registered, agent=claim.get("name", ""), session=s)
            else:
                _give_back(db, s, row, claim, f"agent {claim.get('name', '?')} stopped heartbeating "
                           f"({heartbeat_age(claim, now):.0f} s)", max_attempts, actor=actor)
            touched.append(row.id)
    return touched


def registered_model(registry, run_id: int) -> int | None:
    """The model version a run's worker registered (``hyperparameters["run_id"]``), if any."""
    return next((v.id for v in registry.history() if (v.hyperparameters or {}).get("run_id") == run_id), None)


def agent_of(info: runs.RunInfo) -> dict:
    """The claim of a run (empty when no agent holds it): for the Admin tab's "which agent runs what"."""
    return dict(info.params.get("agent") or {})
