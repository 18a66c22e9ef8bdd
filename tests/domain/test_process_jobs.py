"""The process lane's job without Qt: a real child worker reports, is cancelled, and crashes."""

from __future__ import annotations

import os
import threading

import pytest

from medstation.jobs import Cancelled, JobContext
from medstation.process_jobs import WorkerFailed, run_worker_process


def test_child_progress_partials_and_result_are_forwarded():
    progress, partials = [], []
    ctx = JobContext(on_progress=lambda f, m: progress.append((round(f, 2), m)), on_partial=partials.append)
    result = run_worker_process(ctx, ["selftest-worker", "--steps", "4"])
    assert result == {"steps": 4, "sum_of_squares": 14}
    assert progress == [(0.25, "step 1/4"), (0.5, "step 2/4"), (0.75, "step 3/4"), (1.0, "step 4/4")]
    assert [{k: p[k] for k in ("step", "value")} for p in partials] == [{"step": i, "value": i * i} for i in range(4)]


def test_cancel_terminates_the_child_and_raises_cancelled():
    partials = []
    ctx = JobContext(on_partial=partials.append)

    def cancel_after_two(obj):
        partials.append(obj)
        if len(partials) == 2:
            ctx.cancel()

    ctx._on_partial = cancel_after_two
    timer = threading.Timer(30, ctx.cancel)  # a hung test still ends
    timer.start()
    try:
        with pytest.raises(Cancelled):
            run_worker_process(ctx, ["selftest-worker", "--steps", "1000", "--sleep", "0.02"])
    finally:
        timer.cancel()
    assert 2 <= len(partials) < 1000
    with pytest.raises(ProcessLookupError):  # the child is gone (terminated and reaped), not orphaned
        os.kill(partials[0]["pid"], 0)


def test_crash_raises_worker_failed_with_stderr_tail():
    with pytest.raises(WorkerFailed) as info:
        run_worker_process(JobContext(), ["selftest-worker", "--steps", "5", "--crash-at", "1"])
    assert info.value.returncode == 3
    assert "deliberate crash at step 1" in str(info.value)
    assert "step 0 done" in info.value.stderr_tail


def test_unknown_worker_is_a_failure_not_a_hang():
    with pytest.raises(WorkerFailed) as info:
        run_worker_process(JobContext(), ["no-such-worker"])
    assert info.value.returncode == 2 and "invalid choice" in info.value.stderr_tail
