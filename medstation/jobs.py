"""Long work as plain functions: ``job(ctx, *args) -> result``.

A job never touches Qt. It talks to whoever runs it through a :class:`JobContext`:

* ``ctx.report(fraction, message)`` — progress in [0, 1] and a human sentence;
* ``ctx.partial(obj)`` — a streamed piece of the result (a token, a slice mask);
* ``ctx.check()`` — raises :class:`Cancelled` once cancellation was requested.
  Call it at every slice, chunk, batch or token.

A job that runs another job as one of its steps hands it ``ctx.sub(lo, hi, prefix)``
(progress mapped into its share) or ``ctx.quiet()`` (the step's progress kept inside),
never a hand-written look-alike of this class.

The Qt runner in ``medstation.ui.runner`` turns these calls into signals; tests
and the command line use :class:`JobContext` directly (or :func:`run_job`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """Raised inside a job by ``ctx.check()`` after cancellation was requested."""


class JobContext:
    """What a running job may call. Thread-safe; cheap to call often.

    ``on_progress(fraction, message)`` and ``on_partial(obj)`` are called from the
    job's own thread; the Qt runner forwards them as queued signals.
    """

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_check: Callable[[JobContext], None] | None = None,
    ) -> None:
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self._on_partial = on_partial
        self._on_check = on_check
        self.fraction = 0.0
        self.message = ""

    def report(self, fraction: float, message: str = "") -> None:
        self.fraction = min(1.0, max(0.0, float(fraction)))
        self.message = message
        if self._on_progress is not None:
            self._on_progress(self.fraction, message)

    def partial(self, obj: Any) -> None:
        if self._on_partial is not None:
            self._on_partial(obj)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()
        if self._on_check is not None:
            self._on_check(self)

    # --- contexts for part of a job --------------------------------------------------------------

    def sub(self, lo: float = 0.0, hi: float = 1.0, prefix: str = "", *, partials: bool = True,
            on_check: Callable[[JobContext], None] | None = None) -> JobContext:
        """A context for one step of this job: its progress in [0, 1] lands in ``[lo, hi]`` of this one,
        its messages start with ``prefix``; cancellation is shared (either one's ``cancel()`` stops both).

        ``partials=False`` drops the step's streamed pieces; ``on_check(ctx)`` runs after every
        ``check()`` that did not raise (a background job waits there while foreground work runs).
        """
        span = hi - lo

        def forward(fraction: float, message: str) -> None:
            self.report(lo + span * fraction, f"{prefix}: {message}" if prefix and message else prefix or message)

        child = JobContext(on_progress=forward, on_partial=self.partial if partials else None, on_check=on_check)
        child._cancel = self._cancel
        return child

    def quiet(self) -> JobContext:
        """A context for a step whose own progress and partials stay inside it; cancellation is shared."""
        child = JobContext()
        child._cancel = self._cancel
        return child


def run_job(fn: Callable[..., Any], *args: Any, ctx: JobContext | None = None, **kwargs: Any) -> Any:
    """Run a job synchronously (command line, tests). Returns its result."""
    return fn(ctx or JobContext(), *args, **kwargs)


def print_progress_context(stream=None) -> JobContext:
    """A context that prints progress lines to ``stream`` (stderr by default), for the CLI."""
    import sys

    out = stream or sys.stderr
    last = {"pct": -1}

    def _progress(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct != last["pct"]:
            last["pct"] = pct
            print(f"[{pct:3d}%] {message}", file=out, flush=True)

    return JobContext(on_progress=_progress)
