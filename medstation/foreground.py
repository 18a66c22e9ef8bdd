"""Foreground first: background work (ingestion, embedding prefetch) pauses while an answer streams.

On a 2-core workstation llama.cpp decodes about 124 tokens/s alone but about
3 tokens/s while an embedding batch keeps a core busy: its threads wait for each
other at every token. So the answer job holds :data:`FOREGROUND` while it
streams, and background jobs call :meth:`ForegroundGate.wait_while_busy` between
batches (or slices): they finish the batch in hand, then wait until the answer
is done (at most ``max_wait_s``, so background work is never starved for good),
checking their own cancellation meanwhile.

Pausing is not enough by itself: llama.cpp must not use OpenMP (the set-up builds it
with ggml's own thread pool, ``scripts/llama_cmake_args.sh``). libgomp shortens its
barrier spin as soon as the process holds more OpenMP threads than CPUs, and a live
thread that once ran a parallel torch op (the prefetch's resize, the embedder) keeps
its team, so a paused prefetch still halved decoding.

One gate per process, on purpose: CPU contention is a property of the
process (and machine), not of a service, and the pieces that must agree — the
llm lane, ingestion, the viewer's prefetch — live in different packages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


MAX_WAIT_S = 120.0
"""Longest one answer holds background work (a slice loop, ingestion, a training child) back."""


class ForegroundGate:
    """Counts foreground holders; background work waits while the count is above zero."""

    def __init__(self) -> None:
        self._holders = 0
        self._condition = threading.Condition()
        self.waited_s = 0.0  # total seconds background work spent waiting (benchmarks report it)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Foreground work runs inside ``with gate.hold():``."""
        with self._condition:
            self._holders += 1
        try:
            yield
        finally:
            with self._condition:
                self._holders -= 1
                self._condition.notify_all()

    @property
    def busy(self) -> bool:
        return self._holders > 0

    def wait_while_busy(self, ctx=None, *, max_wait_s: float = MAX_WAIT_S, poll_s: float = 0.2) -> float:
        """Block while foreground work runs (up to ``max_wait_s``); returns the seconds waited.

        ``ctx.check()`` is called at every poll so a cancelled background job stops waiting at once.
        """
        started = time.monotonic()
        with self._condition:
            while self._holders > 0 and time.monotonic() - started < max_wait_s:
                self._condition.wait(poll_s)
                if ctx is not None:
                    ctx.check()
        waited = time.monotonic() - started
        self.waited_s += waited
        return waited


FOREGROUND = ForegroundGate()
