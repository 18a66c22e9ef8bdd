from __future__ import annotations

import os
import threading
import time

import pytest
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


def test_new_job_of_same_requester_cancels_old(qtbot):
    runner = JobRunner()
    first = runner.submit("llm", slow_count, 10_000, 0.001, requester="chat")
    cancelled = []
    first.sig_cancelled.connect(lambda: cancelled.append(True))
    second = runner.submit("llm", slow_count, 3, requester="chat")
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
    assert blocker.args[0] == "corrupt file: x.dcm" and isinstance(blocker.args[2], ValueError)
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


def test_failure_carries_the_exception(qtbot):
    from medstation.errors import UserFacingError

    class BadInput(UserFacingError):
        pass

    def refuse(ctx):
        raise BadInput("that file is not DICOM")

    runner = JobRunner()
    handle = runner.submit("io", refuse)
    with qtbot.waitSignal(handle.sig_failed, timeout=5000) as blocker:
        pass
    message, details, exc = blocker.args
    assert message == "that file is not DICOM" and "BadInput" in details
    assert isinstance(exc, BadInput) and handle.error_type is BadInput
    runner.shutdown()


def test_other_requesters_job_is_not_cancelled(qtbot):
    """A note draft submitted to the llm lane must not stop a chat answer that is streaming."""
    runner = JobRunner()
    tokens = []
    chat = runner.submit("llm", slow_count, 30, 0.005, requester="chat", name="answer question")
    chat.sig_partial.connect(tokens.append)
    qtbot.waitUntil(lambda: len(tokens) >= 2, timeout=5000)  # it is streaming
    note = runner.submit("llm", slow_count, 3, requester="notes", name="draft note")
    with qtbot.waitSignals([chat.sig_done, note.sig_done], timeout=10_000):
        pass
    assert not chat.cancelled and tokens == list(range(30))
    runner.shutdown()


def test_same_requester_replaces_its_earlier_job(qtbot):
    runner = JobRunner()
    owner = object()
    first = runner.submit("segmentation", slow_count, 10_000, 0.001, requester=owner)
    other = runner.submit("segmentation", slow_count, 3, requester="someone else", queue=True)
    with qtbot.waitSignal(first.sig_cancelled, timeout=5000):
        second = runner.submit("segmentation", slow_count, 3, requester=owner)
    with qtbot.waitSignals([second.sig_done, other.sig_done], timeout=5000):
        pass
    assert first.cancelled and not other.cancelled and not second.cancelled
    runner.shutdown()


def test_cancelled_jobs_late_results_reach_no_slot(qtbot):
    """Results already produced (queued to the GUI thread) when cancel() is called are dropped."""
    started, go = threading.Event(), threading.Event()

    def eager(ctx):
        started.set()
        go.wait(5)
        ctx.partial("late partial")
        ctx.report(0.5, "late progress")
        return "late result"  # never checks for cancellation itself

    runner = JobRunner()
    handle = runner.submit("io", eager)
    seen, ended = [], []
    handle.sig_partial.connect(lambda p: seen.append(("partial", p)))
    handle.sig_progress.connect(lambda f, m: seen.append(("progress", m)))
    handle.sig_done.connect(lambda r: seen.append(("done", r)))
    handle.sig_failed.connect(lambda m, tb: seen.append(("failed", m)))
    handle.sig_cancelled.connect(lambda: ended.append("cancelled"))
    handle.sig_finished.connect(lambda: ended.append("finished"))
    qtbot.waitUntil(started.is_set, timeout=5000)  # spins the loop once so the start timer fires
    go.set()
    while not handle.finished:  # no event loop here: the job's signals wait in the GUI queue
        time.sleep(0.01)
    handle.cancel()
    qtbot.waitUntil(lambda: "finished" in ended, timeout=5000)
    qtbot.wait(50)
    assert seen == []
    runner.shutdown()


def test_late_result_of_a_replaced_job_reaches_no_slot(qtbot):
    """A job cancelled by its requester's newer job delivers nothing, even if it ignores check()."""
    release = threading.Event()

    def stubborn(ctx, value):
        release.wait(5)
        ctx.partial(value)
        return value

    runner = JobRunner()
    results = []
    old = runner.submit("llm", stubborn, "old", requester="viewer")
    old.sig_partial.connect(results.append)
    old.sig_done.connect(results.append)
    new = runner.submit("llm", lambda ctx: "new", requester="viewer")
    new.sig_done.connect(results.append)
    release.set()
    with qtbot.waitSignal(new.sig_done, timeout=5000):
        pass
    qtbot.wait(50)
    assert results == ["new"] and old.cancelled
    runner.shutdown()


def test_process_lane_reports_progress_and_result(qtbot):
    runner = JobRunner()
    progress, partials = [], []
    handle = runner.submit_process(["selftest-worker", "--steps", "3"])
    handle.sig_progress.connect(lambda f, m: progress.append((round(f, 3), m)))
    handle.sig_partial.connect(partials.append)
    with qtbot.waitSignal(handle.sig_done, timeout=60_000) as blocker:
        pass
    assert blocker.args[0] == {"steps": 3, "sum_of_squares": 5}
    assert progress == [(0.333, "step 1/3"), (0.667, "step 2/3"), (1.0, "step 3/3")]
    assert [p["step"] for p in partials] == [0, 1, 2]
    runner.shutdown()


def test_process_lane_cancel_terminates_the_child(qtbot):
    runner = JobRunner()
    partials, ended = [], []
    handle = runner.submit_process(["selftest-worker", "--steps", "1000", "--sleep", "0.05"])
    handle.sig_partial.connect(partials.append)
    handle.sig_done.connect(lambda r: ended.append("done"))
    handle.sig_failed.connect(lambda m, tb: ended.append("failed"))
    handle.sig_cancelled.connect(lambda: ended.append("cancelled"))
    qtbot.waitUntil(lambda: len(partials) >= 2, timeout=60_000)
    with qtbot.waitSignal(handle.sig_finished, timeout=15_000):
        handle.cancel()
    assert ended == ["cancelled"]
    with pytest.raises(ProcessLookupError):  # the child was terminated and reaped
        os.kill(partials[0]["pid"], 0)
    runner.shutdown()


def test_process_lane_crash_is_a_failed_job_with_stderr_tail(qtbot):
    from medstation.process_jobs import WorkerFailed

    runner = JobRunner()
    handle = runner.submit_process(["selftest-worker", "--steps", "5", "--crash-at", "2"])
    with qtbot.waitSignal(handle.sig_failed, timeout=60_000) as blocker:
        pass
    message, _details, exc = blocker.args
    assert isinstance(exc, WorkerFailed) and exc.returncode == 3
    assert "deliberate crash at step 2" in message
    assert "step 1 done" in exc.stderr_tail
    runner.shutdown()
