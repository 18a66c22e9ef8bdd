"""Jobs that run in a child process: ``python -m medstation <worker> ...`` speaking JSON lines.

:func:`run_worker_process` is an ordinary job (``fn(ctx, ...)``), so the
``process`` lane of ``ui/runner.py`` and the command line run it the same way.
Hours of training then hold one child process and a thread that mostly
waits, never a model lane that ingestion or measurement also need.

* protocol lines on the child's stdout (:mod:`medstation.worker_protocol`) become
  ``ctx.report`` / ``ctx.partial`` calls; the ``result`` line is the return value;
* cancelling the job terminates the child's whole process group (SIGTERM, then
  SIGKILL after :data:`TERMINATE_GRACE_S`) and raises :class:`~medstation.jobs.Cancelled`;
* a non-zero exit (a crash) raises :class:`WorkerFailed` carrying the stderr tail;
* while a chat answer streams (:data:`~medstation.foreground.FOREGROUND` held in this
  process) the child is paused with SIGSTOP and resumed with SIGCONT afterwards, at
  most :data:`MAX_PAUSE_S` at a time: a training child keeps both cores busy, and
  llama.cpp's two threads then decode a fraction of their quiet rate. Outside the app
  (the command line) nothing holds the gate, so nothing pauses.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medstation.access.headless import worker_ticket_env
from medstation.config import Settings
from medstation.errors import UserFacingError
from medstation.foreground import FOREGROUND, MAX_WAIT_S, ForegroundGate
from medstation.jobs import Cancelled, JobContext
from medstation.worker_protocol import parse_line

log = logging.getLogger(__name__)

TERMINATE_GRACE_S = 5.0  # a worker gets this long to exit after SIGTERM before SIGKILL
STDERR_TAIL_LINES = 40
POLL_S = 0.1  # how often cancellation is checked while the child is silent
MAX_PAUSE_S = MAX_WAIT_S  # one answer never holds a training run for longer than this


class WorkerFailed(UserFacingError):
    """The child exited with a non-zero status (or without a result); ``stderr_tail`` says why."""

    def __init__(self, message: str, *, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


def worker_command(argv: Sequence[str]) -> list[str]:
    """The command line of a worker: ``python -m medstation *argv`` (a frozen build starts itself)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *argv]
    return [sys.executable, "-m", "medstation", *argv]


def _child_env(env: Mapping[str, str] | None, argv: Sequence[str] = ()) -> dict[str, str]:
    """The parent's environment plus ``env``; the child imports the same ``medstation`` as the parent.

    With ``argv``, also the worker ticket that lets the child run exactly that argument list on a
    store with accounts (:func:`medstation.access.headless.worker_ticket_env`).
    """
    merged = {**os.environ, **(env or {})}
    if argv:
        home = merged.get("MEDSTATION_HOME")
        db_path = (Settings(home=Path(home)) if home else Settings()).db_path
        merged.update(worker_ticket_env(db_path, list(argv)))
    package_root = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in merged.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_root not in paths:
        merged["PYTHONPATH"] = os.pathsep.join([package_root, *paths])
    merged.setdefault("PYTHONUNBUFFERED", "1")
    return merged


def _pump(stream, sink) -> None:
    for line in iter(stream.readline, ""):
        sink(line)
    stream.close()


class _ForegroundPause:
    """SIGSTOP / SIGCONT the child's process group as the foreground gate is held and released."""

    def __init__(self, proc: subprocess.Popen, gate: ForegroundGate) -> None:
        self.proc, self.gate = proc, gate
        self.paused_since: float | None = None
        self.paused_s = 0.0  # total, for logs and tests
        self.enabled = os.name == "posix"

    def _signal(self, sig) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def update(self) -> None:
        if not self.enabled or self.proc.poll() is not None:
            return
        now = time.monotonic()
        if self.paused_since is None:
            if self.gate.busy:
                self._signal(signal.SIGSTOP)
                self.paused_since = now
        elif not self.gate.busy or now - self.paused_since > MAX_PAUSE_S:
            self.resume()

    def resume(self) -> None:
        if self.paused_since is not None:
            self._signal(signal.SIGCONT)
            self.paused_s += time.monotonic() - self.paused_since
            self.paused_since = None


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM to the child's process group, SIGKILL after the grace period (the tree, not just the child)."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        proc.wait(TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        log.warning("worker %s ignored SIGTERM; killing it", proc.pid)
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
    except ProcessLookupError:  # it exited between poll() and killpg()
        proc.wait()


def run_worker_process(ctx: JobContext, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                       gate: ForegroundGate = FOREGROUND) -> Any:
    """Job: run worker ``argv`` (e.g. ``["train-worker", "--run-id", "3"]``) and return its result data.

    ``env`` adds to (or overrides) the parent's environment. The child is paused while
    ``gate`` is held (a chat answer streams). Raises :class:`Cancelled`
    after terminating the child when the job is cancelled, and :class:`WorkerFailed`
    when the child exits non-zero or ends without a ``result`` line.
    """
    ctx.check()
    lines: queue.Queue[str | None] = queue.Queue()
    stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    proc = subprocess.Popen(
        worker_command(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, bufsize=1, env=_child_env(env, argv), start_new_session=(os.name == "posix"),
    )
    out = threading.Thread(target=_pump, args=(proc.stdout, lines.put), name=f"worker-{proc.pid}-out", daemon=True)
    err = threading.Thread(target=_pump, args=(proc.stderr, stderr_tail.append), name=f"worker-{proc.pid}-err",
                           daemon=True)
    out.start()
    err.start()
    result: Any = None
    got_result = False
    pause = _ForegroundPause(proc, gate)
    try:
        while True:
            if ctx.cancelled:
                pause.resume()  # a stopped child would sit on SIGTERM until the grace ran out
                _terminate(proc)
                raise Cancelled()
            pause.update()
            try:
                line = lines.get(timeout=POLL_S)
            except queue.Empty:
                if proc.poll() is not None and not out.is_alive() and lines.empty():
                    break
                continue
            message = parse_line(line)
            if message is None:
                log.debug("worker %s: %s", proc.pid, line.rstrip())
            elif message["type"] == "progress":
                ctx.report(float(message.get("fraction", 0.0)), str(message.get("message", "")))
            elif message["type"] == "partial":
                ctx.partial(message.get("data"))
            else:
                result, got_result = message.get("data"), True
    finally:
        pause.resume()
        if proc.poll() is None:  # an exception on our side (cancel handled above): never leave an orphan
            _terminate(proc)
    if pause.paused_s:
        log.info("worker %s: paused %.1f s in all while answers streamed", proc.pid, pause.paused_s)
    returncode = proc.wait()
    err.join(2.0)
    tail = "".join(stderr_tail).strip()
    name = argv[0] if argv else "worker"
    if returncode != 0:
        last = tail.splitlines()[-1] if tail else "no message on stderr"
        raise WorkerFailed(f"{name} failed (exit status {returncode}): {last}", returncode=returncode,
                           stderr_tail=tail)
    if not got_result:
        raise WorkerFailed(f"{name} exited without a result", returncode=returncode, stderr_tail=tail)
    ctx.check()
    return result
