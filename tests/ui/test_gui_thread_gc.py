"""While a JobRunner exists, cyclic garbage is collected in the GUI thread, never in a job's thread.

A collection in a job thread finalises the GUI thread's Qt objects from the wrong thread; with PySide6
that deadlocked the window (test run of 2026-12-07: a transcription job's thread inside a collection,
the GUI thread waiting for the interpreter lock). See medstation/ui/gui_thread_gc.py.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QCoreApplication

from medstation.ui.gui_thread_gc import GuiThreadCollector
from medstation.ui.runner import JobRunner


def _users() -> int:
    """How many runners hold the collector now (earlier tests' windows may still hold it)."""
    found = QCoreApplication.instance().findChild(GuiThreadCollector, "gui_thread_gc")
    return 0 if found is None else found.users


class _Cycle:
    """Garbage that only the cyclic collector can free; records the thread that finalised it."""

    finalised_in: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.finalised_in.append(threading.current_thread().name)


def _make_garbage_then_allocate(ctx) -> tuple[str, list]:
    _Cycle()  # unreachable at once, but a cycle: freed by the next collection of its generation
    kept = [[i] for i in range(50_000)]  # allocations kept alive: far past the gen-0 threshold
    return threading.current_thread().name, kept


def test_garbage_made_in_a_job_is_collected_in_the_gui_thread(qtbot):
    gc.collect()
    _Cycle.finalised_in.clear()
    before = _users()
    runner = JobRunner()
    try:
        assert not gc.isenabled()
        handle = runner.submit("io", _make_garbage_then_allocate, name="allocating job")
        with qtbot.waitSignal(handle.sig_finished, timeout=30_000):
            pass
        job_thread = handle.result[0]
        qtbot.waitUntil(lambda: bool(_Cycle.finalised_in), timeout=10_000)  # the GUI thread's timer collected it
        assert _Cycle.finalised_in == [threading.main_thread().name] != [job_thread]
    finally:
        runner.shutdown()
    assert _users() == before
    assert gc.isenabled() == (before == 0)  # the last runner gone: automatic collection is back


def test_two_runners_share_the_collector_until_both_are_shut_down(qtbot):
    before = _users()
    first, second = JobRunner(), JobRunner()
    assert _users() == before + 2 and not gc.isenabled()
    first.shutdown()
    first.shutdown()  # a second shutdown of the same runner does not release twice
    assert _users() == before + 1 and not gc.isenabled()
    second.shutdown()
    assert _users() == before and gc.isenabled() == (before == 0)
