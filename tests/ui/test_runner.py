from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from medstation.ui.runner import JobRunner


def slow_count(ctx, n, delay=0.01):
    for i in range(n):
        ctx.check()
        ctx.partial(i)
        ctx.report((i + 1) / n, f"{i + 1}/{n}")
        time.sleep(delay)
    return threading.current_thread().name


def test_job_runs_off_gui_thread_and_streams(qtbot):
    runner = JobRunner()
    partials = []
    handle = runner.submit("io", slow_count, 5)
    handle.sig_partial.connect(partials.append)
    with qtbot.waitSignal(handle.sig_done, timeout=5000) as blocker:
        pass
    assert blocker.args[0] != threading.current_thread().name
    assert QThread.currentThread() is QApplication.instance().thread()
    assert partials == [0, 1, 2, 3, 4]
    runner.shutdown()


def test_new_job_in_lane_cancels_old(qtbot):
    runner = JobRunner()
    first = runner.submit("llm", slow_count, 10_000, 0.001)
    cancelled = []
    first.sig_cancelled.connect(lambda: cancelled.append(True))
    second = runner.submit("llm", slow_count, 3)
    with qtbot.waitSignal(second.sig_done, timeout=5000):
        pass
    qtbot.waitUntil(lambda: cancelled == [True], timeout=2000)
    runner.shutdown()


def test_queued_jobs_both_finish(qtbot):
    runner = JobRunner()
    a = runner.submit("io", slow_count, 3, queue=True)
    b = runner.submit("io", slow_count, 3, queue=True)
    with qtbot.waitSignals([a.sig_done, b.sig_done], timeout=5000):
        pass
    runner.shutdown()


def test_failure_is_reported_not_raised(qtbot):
    def boom(ctx):
        raise ValueError("corrupt file: x.dcm")

    runner = JobRunner()
    handle = runner.submit("io", boom)
    with qtbot.waitSignal(handle.sig_failed, timeout=5000) as blocker:
        pass
    assert "corrupt file" in blocker.args[0]
    runner.shutdown()


def test_fast_job_result_reaches_a_slot_connected_after_submit(qtbot):
    """A job that finishes at once still delivers to slots connected right after submit()."""
    runner = JobRunner()
    results = []
    handle = runner.submit("io", lambda ctx: 42)
    time.sleep(0.05)  # the job would have finished by now if it had started in submit()
    handle.sig_done.connect(results.append)
    qtbot.waitUntil(lambda: results == [42], timeout=3000)
    runner.shutdown()
