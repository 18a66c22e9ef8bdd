"""The only thread machinery of the app: lanes that run plain jobs off the GUI thread.

Lanes (:class:`Lane`): ``io`` (files and the database: every read and write of the app's tables,
so the GUI thread never waits on a disk or a database lock), ``segmentation`` and ``llm`` (one model
each), ``background`` (knowledge-base ingestion), ``process`` (child workers such as training:
:func:`medstation.process_jobs.run_worker_process`, see :meth:`JobRunner.submit_process`),
``measure`` and ``shadow``. Each lane is a ``QThreadPool`` with one thread, so a model is never used
from two threads at once, and a tab's writes keep their order.

Lane rules (docs/ARCHITECTURE.md, "Jobs and lanes"):

* A new request replaces only **the same requester's** earlier request:
  ``submit(..., requester=self)`` cancels this requester's running or waiting jobs
  in that lane (a new box drag cancels the old drag). Jobs of other requesters
  are never touched (a note draft never stops a streaming chat answer).
  ``requester=None`` (the default) cancels nothing; ``queue=True`` keeps the
  requester's earlier jobs too.
* A cancelled job is **disconnected**: from the moment :meth:`JobHandle.cancel`
  returns, none of its progress, partials, result or failure reaches a slot,
  even if the job's thread had already produced them. Only ``sig_cancelled``
  (when the job stops) and ``sig_finished`` still arrive, so widgets need no
  stale-result guards.
* A failure nobody listens to is not silent: when no slot is connected to
  ``sig_failed`` (and no ``on_failed`` was passed), the runner reports it through
  :func:`medstation.ui.errors.report_failure` (a dialog for a bug, as napari's
  workers raise an unhandled error), besides the log.
* A job's outcome (``sig_done``, ``sig_failed`` or ``sig_cancelled``) and ``sig_finished`` reach the GUI
  in one event, so a widget never shows a result with the buttons it re-enables on "finished" still off.
* While a runner exists, Python's cyclic garbage collection runs only in the GUI thread
  (:mod:`medstation.ui.gui_thread_gc`): a collection in a lane's thread could finalise Qt objects there.
* Closing the window (:meth:`JobRunner.close_down`) cancels every lane except ``io``
  and waits, bounded, for the ``io`` jobs: they are the saves the user was promised
  (an autosave queued by the close itself included).

Signals live on :class:`JobHandle` (a QObject; a QRunnable cannot carry
signals). The job's thread emits private signals that are queued to the GUI
thread, where the handle re-emits them only if it was not cancelled; callers
connect to the public signals right after :meth:`JobRunner.submit` returns. That
is safe because the job is handed to its thread only on the next turn of the GUI
event loop (a zero-delay timer): a signal emitted before a slot is connected
would otherwise be lost, since Qt delivers only to connections that exist at
emit time.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Hashable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from medstation.jobs import Cancelled, JobContext
from medstation.ui import gui_thread_gc
from medstation.ui.errors import report_failure

log = logging.getLogger(__name__)


class Lane(StrEnum):
    """The lanes of :class:`JobRunner` (a ``str``: ``Lane.IO == "io"``, so older callers keep working)."""

    IO = "io"  # files and the database; never cancelled by closing the window
    SEGMENTATION = "segmentation"  # the segmentation model
    LLM = "llm"  # the language model
    BACKGROUND = "background"  # knowledge-base ingestion
    PROCESS = "process"  # child worker processes (training)
    MEASURE = "measure"  # segment measurements (viewer)
    SHADOW = "shadow"  # candidate models beside the active one (training.shadow), lowest priority


LANES = tuple(Lane)
_FAILED_SIGNATURE = "sig_failed(QString,QString,PyObject)"


class JobHandle(QObject):
    """One submitted job. Signals are delivered in the GUI thread.

    ``sig_progress(fraction, message)``; ``sig_partial(obj)``; exactly one of
    ``sig_done(result)``, ``sig_failed(message, traceback, exception)``,
    ``sig_cancelled()``; then ``sig_finished()`` in every case. A slot may take
    just ``(message, traceback)`` from ``sig_failed``; the exception object (its type
    tells a :class:`~medstation.errors.UserFacingError` from a bug) is the third argument.
    After :meth:`cancel` only ``sig_cancelled`` and ``sig_finished`` are emitted.
    """

    sig_progress = Signal(float, str)
    sig_partial = Signal(object)
    sig_done = Signal(object)
    sig_failed = Signal(str, str, object)
    sig_cancelled = Signal()
    sig_finished = Signal()

    # Emitted from the job's thread, queued to this handle's (the GUI) thread.
    _raw_progress = Signal(float, str)
    _raw_partial = Signal(object)
    _raw_done = Signal(object)
    _raw_failed = Signal(str, str, object)
    _raw_cancelled = Signal()

    def __init__(self, name: str, lane: Lane | str, requester: Hashable | None = None,
                 unhandled: Callable[[JobHandle, str, str, object], None] | None = None) -> None:
        super().__init__()
        self.name = name
        self.lane = Lane(lane)
        self._unhandled = unhandled  # who hears a failure when no slot listens to sig_failed
        self.requester = requester
        self.ctx = JobContext(on_progress=self._raw_progress.emit, on_partial=self._raw_partial.emit)
        self.finished = False
        self.result: Any = None
        self.error: str | None = None
        self.exception: BaseException | None = None
        self._disconnected = False
        self._raw_progress.connect(self._relay_progress)
        self._raw_partial.connect(self._relay_partial)
        self._raw_done.connect(self._relay_done)
        self._raw_failed.connect(self._relay_failed)
        self._raw_cancelled.connect(self._relay_cancelled)

    def cancel(self) -> None:
        """Ask the job to stop (at its next ``ctx.check()``) and drop whatever it still sends."""
        self._disconnected = True
        self.ctx.cancel()

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled

    @property
    def error_type(self) -> type[BaseException] | None:
        return type(self.exception) if self.exception is not None else None

    # -- relays (GUI thread) --------------------------------------------------------------------
    @Slot(float, str)
    def _relay_progress(self, fraction: float, message: str) -> None:
        if not self._disconnected:
            self.sig_progress.emit(fraction, message)

    @Slot(object)
    def _relay_partial(self, obj: Any) -> None:
        if not self._disconnected:
            self.sig_partial.emit(obj)

    # Each outcome relay ends with sig_finished in the same GUI event: a widget that re-enables its
    # buttons on "finished" is then never seen showing a result with its buttons still disabled (the
    # job thread used to send "finished" separately, and a loaded machine could paint in between).
    @Slot(object)
    def _relay_done(self, result: Any) -> None:
        self.result = result
        try:
            if not self._disconnected:
                self.sig_done.emit(result)
        finally:
            self.sig_finished.emit()

    @Slot(str, str, object)
    def _relay_failed(self, message: str, details: str, exc: object) -> None:
        self.error, self.exception = message, exc
        try:
            if self._disconnected:
                return
            if self._unhandled is not None and not self.isSignalConnected(self._failed_method()):
                self._unhandled(self, message, details, exc)
                return
            self.sig_failed.emit(message, details, exc)
        finally:
            self.sig_finished.emit()

    def _failed_method(self):
        meta = self.metaObject()
        return meta.method(meta.indexOfSignal(_FAILED_SIGNATURE))

    @Slot()
    def _relay_cancelled(self) -> None:
        try:
            self.sig_cancelled.emit()
        finally:
            self.sig_finished.emit()


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
        outcome: tuple = ("_raw_failed", "the job stopped without a result", "", None)
        try:
            h.ctx.check()  # cancelled while still waiting in the queue
            result = self._fn(h.ctx, *self._args, **self._kwargs)
            h.ctx.check()
        except Cancelled:
            outcome = ("_raw_cancelled",)
        except Exception as exc:  # a failed job must never take the app down
            log.exception("job %s failed", h.name)
            outcome = ("_raw_failed", f"{exc}" or exc.__class__.__name__, traceback.format_exc(), exc)
        else:
            outcome = ("_raw_done", result)
        finally:
            h.finished = True
            self._emit(*outcome)  # its relay also emits sig_finished, in the same GUI event

    def _emit(self, name: str, *args) -> None:
        """Emit one of the handle's signals; when the window closed meanwhile its handle is gone, and so is
        everyone it could tell (without this, a job finishing during shutdown printed three tracebacks)."""
        try:
            getattr(self._handle, name).emit(*args)
        except RuntimeError as exc:  # "Signal source has been deleted"
            log.debug("job %s ended after its handle was deleted: %s", self._handle.name, exc)


class JobRunner(QObject):
    """Runs jobs in named lanes. Created once by the app and shared by the tabs."""

    sig_job_started = Signal(object)  # JobHandle, for a global activity display

    def __init__(self, parent: QObject | None = None, *, error_parent: QWidget | None = None) -> None:
        """``error_parent``: the window over which an unhandled failure's dialog opens (settable later)."""
        super().__init__(parent)
        self.error_parent = error_parent
        self._pools: dict[Lane, QThreadPool] = {}
        self._current: dict[Lane, list[JobHandle]] = {}
        self._unstarted: dict[JobHandle, _Task] = {}  # submitted, handed to its lane on the next event-loop turn
        for lane in LANES:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            self._pools[lane] = pool
            self._current[lane] = []
        gui_thread_gc.acquire()  # no garbage collection in the lanes' threads (see gui_thread_gc)
        self._gc_released = False

    def submit(
        self,
        lane: Lane | str,
        fn: Callable[..., Any],
        *args: Any,
        name: str = "",
        queue: bool = False,
        requester: Hashable | None = None,
        on_failed: Callable[..., None] | None = None,
        **kwargs: Any,
    ) -> JobHandle:
        """Start ``fn(ctx, *args, **kwargs)`` in ``lane``.

        Unless ``queue``, the same ``requester``'s earlier jobs in this lane are cancelled
        (and disconnected); other requesters' jobs never are. ``requester=None`` cancels nothing.
        ``on_failed(message, traceback, exception)`` is connected to ``sig_failed``; with no slot
        there at all, a failure goes to :func:`medstation.ui.errors.report_failure`.
        """
        try:
            lane = Lane(lane)
        except ValueError:
            raise ValueError(f"unknown lane {lane!r}; lanes are {[str(x) for x in LANES]}") from None
        alive = [h for h in self._current[lane] if not h.finished]
        if not queue and requester is not None:
            for old in alive:
                if old.requester is not None and old.requester == requester:
                    old.cancel()
        handle = JobHandle(name or getattr(fn, "__name__", "job"), lane, requester, unhandled=self._report_unhandled)
        handle.sig_finished.connect(lambda h=handle: self._forget(h))
        if on_failed is not None:
            handle.sig_failed.connect(on_failed)
        self._current[lane] = alive + [handle]
        self._unstarted[handle] = _Task(handle, fn, args, kwargs)
        QTimer.singleShot(0, self, lambda h=handle: self._start(h))
        self.sig_job_started.emit(handle)
        return handle

    def _start(self, handle: JobHandle) -> None:
        task = self._unstarted.pop(handle, None)
        if task is not None:
            self._pools[handle.lane].start(task)

    def _report_unhandled(self, handle: JobHandle, message: str, details: str, exc: object) -> None:
        """The default for a failure no slot listens to: the one error path (a sentence, or a dialog for a bug)."""
        report_failure(self.error_parent, f"{handle.name.capitalize()} failed", message, details, exc)

    def submit_process(
        self,
        argv: Sequence[str],
        *,
        name: str = "",
        env: Mapping[str, str] | None = None,
        requester: Hashable | None = None,
        queue: bool = True,
    ) -> JobHandle:
        """Run worker ``python -m medstation *argv`` in the ``process`` lane (queued by default).

        Cancelling the handle terminates the child; a crash fails the job with
        :class:`~medstation.process_jobs.WorkerFailed` (its stderr tail).
        """
        from medstation.process_jobs import run_worker_process

        return self.submit("process", run_worker_process, list(argv), env=env, name=name or (argv[0] if argv else
                           "worker"), queue=queue, requester=requester)

    def _forget(self, handle: JobHandle) -> None:
        self._unstarted.pop(handle, None)
        lane = self._current.get(handle.lane, [])
        if handle in lane:
            lane.remove(handle)

    def active(self, lane: Lane | str | None = None) -> list[JobHandle]:
        lanes = [Lane(lane)] if lane else list(self._current)
        return [h for ln in lanes for h in self._current[ln] if not h.finished]

    def cancel_all(self, *, keep: Sequence[Lane] = ()) -> None:
        """Cancel every job, except those of the lanes in ``keep``."""
        for lane, handles in self._current.items():
            if lane not in keep:
                for h in handles:
                    h.cancel()

    def drain(self, lane: Lane | str, timeout_ms: int) -> bool:
        """Block until every job of ``lane`` (those not yet handed to it too) has run; False on timeout."""
        lane = Lane(lane)
        for handle in [h for h in self._unstarted if h.lane is lane]:
            self._start(handle)
        return self._pools[lane].waitForDone(timeout_ms)

    def close_down(self, timeout_ms: int = 10_000, *, waiting: Callable[[int], None] | None = None) -> bool:
        """Window closing: cancel every lane but ``io``, then wait (at most ``timeout_ms``) for the io jobs,
        the saves the user was promised. ``waiting(n)`` is called first when ``n`` io jobs are still to run
        (to say so on screen). True when they all ran; False when the time ran out (nothing is cancelled)."""
        self.cancel_all(keep=(Lane.IO,))
        pending = len(self.active(Lane.IO))
        if pending and waiting is not None:
            waiting(pending)
        started = time.monotonic()
        done = self.drain(Lane.IO, timeout_ms)
        log.info("close: %d io job(s) %s in %.2f s", pending, "finished" if done else "still running",
                 time.monotonic() - started)
        return done

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel_all()
        for pool in self._pools.values():
            pool.waitForDone(timeout_ms)
        if not self._gc_released:
            self._gc_released = True
            gui_thread_gc.release()
