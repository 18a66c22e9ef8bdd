"""Which machine runs (or ran) a training run, in words: the Admin tab's "Agent" column.

A run claimed by a training agent carries the claim in ``params["agent"]`` (:mod:`.claims`):
its name, host and the time of its last heartbeat. A run without a claim was trained by a
workstation's own process lane (``TrainingService.run_queued``) or has not started yet.

- claimed and running: ``"gpu-1 on trainbox · heartbeat 3 s ago"``; a heartbeat older than
  ``stale_after_s`` adds ``"silent: will be requeued"`` (what :func:`.claims.requeue_stale` does next);
- claimed and finished: ``"gpu-1 on trainbox"`` (the claim stays on the run);
- queued: ``"queued"``, or ``"queued (requeued 1×)"`` after an agent gave it back;
- started without a claim: ``local`` ("this workstation" on a single-workstation SQLite store;
  on a clinic server the caller says "a workstation", since it cannot tell which one);
- withdrawn before it started: ``""``.
"""

from __future__ import annotations

from datetime import datetime

from medstation.store.engine import is_postgres
from medstation.store.tables import TrainingRunStatus, utcnow
from medstation.training import runs
from medstation.training.agent.claims import agent_of, heartbeat_age

STALE_AFTER_S = 60.0  # the agent's default ``--stale-after``


def age_words(seconds: float) -> str:
    """``"3 s"``, ``"4 min"``, ``"2 h"`` (whole units, rounded down)."""
    if seconds < 90:
        return f"{max(0, int(seconds))} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"


def agent_name(claim: dict) -> str:
    """The agent's name, plus its host when the name does not already say it (default names are host:pid)."""
    name, host = str(claim.get("name") or "an agent"), str(claim.get("host") or "")
    return name if not host or host in name else f"{name} on {host}"


def placement(info: runs.RunInfo, *, now: datetime | None = None, local: str = "this workstation",
              stale_after_s: float = STALE_AFTER_S) -> str:
    """Where run ``info`` runs or ran, in words (see the module docstring)."""
    claim = agent_of(info)
    if claim:
        name = agent_name(claim)
        if info.status != TrainingRunStatus.running:
            return name
        age = heartbeat_age(claim, now or utcnow())
        if age == float("inf"):
            return f"{name} · no heartbeat yet"
        text = f"{name} · heartbeat {age_words(age)} ago"
        return text + (" (silent: will be requeued)" if age > stale_after_s else "")
    if info.status == TrainingRunStatus.queued:
        attempts = int(info.params.get("agent_attempts", 0) or 0)
        return f"queued (requeued {attempts}×)" if attempts else "queued"
    if info.started_at is None and info.pid is None:
        return ""  # withdrawn (or failed) before any machine took it
    return local


def placements(db, run_infos: list[runs.RunInfo], *, now: datetime | None = None) -> dict[int, str]:
    """``run id -> placement`` for ``run_infos`` (one database's runs); call it in a worker lane, not the GUI."""
    local = "a workstation" if is_postgres(db.engine) else "this workstation"
    now = now or utcnow()
    return {info.id: placement(info, now=now, local=local) for info in run_infos}
