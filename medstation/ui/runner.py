"""The only thread machinery of the app: lanes that run plain jobs off the GUI thread.

Each lane (``io``, ``segmentation``, ``llm``) is a ``QThreadPool`` with one
thread, so a model is never used from two threads at once. Submitting to a lane
cancels the job currently running or waiting there, unless ``queue=True``.

Signals live on :class:`JobHandle` (a QObject; a QRunnable cannot carry
signals). Callers connect to the handle's signals right after :meth:`submit`
returns. That is safe because the job is handed to its thread only on the next
turn of the GUI event loop (a zero-delay timer): a signal emitted before a slot
is connected would otherwise be lost, since Qt delivers only to connections that
exist at emit time.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from medstation.jobs import Cancelled, JobContext

log = logging.getLogger(__name__)

LANES = ("io", "segmentation", "llm", "background", "measure")  # measure: segment measurements (viewer)


class JobHandle(QObject):
    """One submitted job. Signals are delivered in the GUI thread.

    ``sig_progress(fraction, message)``; ``sig_partial(obj)``; exactly one of
    ``sig_done(result)``, ``sig_failed(message, traceback)``, ``sig_cancelled()``;
    then ``sig_finished()`` in every case.
    """

    sig_progress = Signal(float, str)
    sig_partial = Signal(object)
    sig_done = Signal(object)
    sig_failed = Signal(str, str)
    sig_cancelled = Signal()
    sig_finished = Signal()

    def __init__(self, name: str, lane: str) -> None:
        super().__init__()
        self.name = name
        self.lane = lane
        self.ctx = JobContext(on_progress=self.sig_progress.emit, on_partial=self.sig_partial.emit)
        self.finished = False
        self.result: Any = None
        self.error: str | None = None

    def cancel(self) -> None:
        self.ctx.cancel()

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled


class _Task(QRunnable):
    def __init__(self, handle: JobHandle, fn: Callable[..., Any], args, kwargs) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._handle = handle
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:  # runs in the lane's thread
        h = self._handle
        try:
            h.ctx.check()  # cancelled while still waiting in the queue
            result = self._fn(h.ctx, *self._args, **self._kwargs)
            h.ctx.check()
        except Cancelled:
            h.sig_cancelled.emit()
        except Exception as exc:  # a failed job must never take the app down
            log.exception("job %s failed", h.name)
            h.error = f"{exc}" or exc.__class__.__name__
            h.sig_failed.emit(h.error, traceback.format_exc())
        else:
            h.result = result
            h.sig_done.emit(result)
        finally:
            h.finished = True
            h.sig_finished.emit()


class JobRunner(QObject):
    """Runs jobs in named lanes. Created once by the app and shared by the tabs."""

    sig_job_started = Signal(object)  # JobHandle, for a global activity display

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools: dict[str, QThreadPool] = {}
        self._current: dict[str, list[JobHandle]] = {}
        for lane in LANES:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            self._pools[lane] = pool
            self._current[lane] = []

    def submit(
        self, lane: str, fn: Callable[..., Any], *args: Any, name: str = "", queue: bool = False, **kwargs: Any
    ) -> JobHandle:
        """Start ``fn(ctx, *args, **kwargs)`` in ``lane``; cancels that lane's earlier jobs unless ``queue``."""
        if lane not in self._pools:
            raise ValueError(f"unknown lane {lane!r}; lanes are {LANES}")
        alive = [h for h in self._current[lane] if not h.finished]
        if not queue:
            for old in alive:
                old.cancel()
        handle = JobHandle(name or getattr(fn, "__name__", "job"), lane)
        handle.sig_finished.connect(lambda h=handle: self._forget(h))
        self._current[lane] = alive + [handle]
        task = _Task(handle, fn, args, kwargs)
        QTimer.singleShot(0, self, lambda: self._pools[lane].start(task))
        self.sig_job_started.emit(handle)
        return handle

    def _forget(self, handle: JobHandle) -> None:
        lane = self._current.get(handle.lane, [])
        if handle in lane:
            lane.remove(handle)

    def active(self, lane: str | None = None) -> list[JobHandle]:
        lanes = [lane] if lane else list(self._current)
        return [h for ln in lanes for h in self._current[ln] if not h.finished]

    def cancel_all(self) -> None:
        for handles in self._current.values():
            for h in handles:
                h.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel_all()
        for pool in self._pools.values():
            pool.waitForDone(timeout_ms)
