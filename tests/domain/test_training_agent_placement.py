"""Where a training run runs, in words (the Admin tab's agent column): pure, on hand-made run records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from medstation.store.tables import TrainingRunStatus
from medstation.training.agent.placement import age_words, placement
from medstation.training.runs import RunInfo

NOW = datetime(2026, 12, 6, 19, 0, tzinfo=timezone.utc)


def _run(status, params=None, started=True, pid=None):
    return RunInfo(1, "segmentation", status, None, None, None, dict(params or {}), "ann", NOW,
                   NOW if started else None, None, 0, "/tmp/run-1", "", pid)


def _claim(seconds_ago, name="gpu-1", host="trainbox"):
    return {"agent": {"token": "t", "name": name, "host": host, "pid": 9,
                      "claimed_at": (NOW - timedelta(seconds=900)).isoformat(),
                      "heartbeat_at": (NOW - timedelta(seconds=seconds_ago)).isoformat()}}


def test_a_claimed_running_run_names_its_agent_and_heartbeat_age():
    assert placement(_run(TrainingRunStatus.running, _claim(4)), now=NOW) == "gpu-1 on trainbox · heartbeat 4 s ago"
    assert (placement(_run(TrainingRunStatus.running, _claim(61, name="trainbox:12")), now=NOW)
            == "trainbox:12 · heartbeat 61 s ago (silent: will be requeued)")
    assert placement(_run(TrainingRunStatus.running, _claim(30)), now=NOW, stale_after_s=20).endswith("requeued)")


def test_finished_queued_local_and_withdrawn_runs():
    assert placement(_run(TrainingRunStatus.succeeded, _claim(3000)), now=NOW) == "gpu-1 on trainbox"
    assert placement(_run(TrainingRunStatus.queued, started=False), now=NOW) == "queued"
    assert placement(_run(TrainingRunStatus.queued, {"agent_attempts": 2}, started=False), now=NOW) == \
        "queued (requeued 2×)"
    assert placement(_run(TrainingRunStatus.running, pid=123), now=NOW) == "this workstation"
    assert placement(_run(TrainingRunStatus.failed, pid=123), now=NOW, local="a workstation") == "a workstation"
    assert placement(_run(TrainingRunStatus.cancelled, started=False), now=NOW) == ""


def test_a_claim_without_a_readable_heartbeat_says_so():
    params = {"agent": {"name": "gpu-1", "host": "", "heartbeat_at": "not a time"}}
    assert placement(_run(TrainingRunStatus.running, params), now=NOW) == "gpu-1 · no heartbeat yet"


def test_age_words():
    assert [age_words(s) for s in (0, 59.9, 89, 90, 3599, 5400, 7300)] == ["0 s", "59 s", "89 s", "1 min",
                                                                          "59 min", "1 h", "2 h"]
