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


@pytest.mark.skipif(os.name != "posix", reason="SIGSTOP/SIGCONT are POSIX")
def test_child_is_paused_while_an_answer_streams_and_resumed_after():
    import time

    from medstation.foreground import ForegroundGate

    gate = ForegroundGate()
    partials, states = [], []
    held = threading.Event()

    def on_partial(obj):
        partials.append((time.monotonic(), obj))
        if len(partials) == 3 and not held.is_set():
            held.set()
            threading.Thread(target=hold_for_a_second, args=(obj["pid"],), daemon=True).start()

    def hold_for_a_second(pid):
        with gate.hold():
            time.sleep(0.5)
            count = len(partials)
            states.append(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0])
            time.sleep(0.7)
            states.append(len(partials) - count)  # steps the child made while the answer streamed

    ctx = JobContext(on_partial=on_partial)
    started = time.monotonic()
    result = run_worker_process(ctx, ["selftest-worker", "--steps", "20", "--sleep", "0.05"], gate=gate)
    assert result["steps"] == 20 and len(partials) == 20
    assert states[0] == "T"  # stopped by SIGSTOP, not merely slow
    assert states[1] == 0
    assert time.monotonic() - started > 1.0 + 20 * 0.05 * 0.9  # it waited out the hold, then finished


def test_cancel_while_paused_still_ends_the_child_quickly():
    import time

    from medstation.foreground import ForegroundGate

    gate = ForegroundGate()
    ctx = JobContext()
    pids = []

    def on_partial(obj):
        pids.append(obj["pid"])
        if len(pids) == 1:
            threading.Thread(target=hold_then_cancel, daemon=True).start()

    def hold_then_cancel():
        with gate.hold():
            time.sleep(0.5)
            ctx.cancel()
            time.sleep(3)

    ctx._on_partial = on_partial
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_worker_process(ctx, ["selftest-worker", "--steps", "1000", "--sleep", "0.02"], gate=gate)
    assert time.monotonic() - started < 4.5  # SIGCONT before SIGTERM: no 5 s grace, no SIGKILL wait
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
