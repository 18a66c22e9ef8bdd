"""Per-input limits of the long DICOM fuzz run (benchmarks/fuzz_dicom.py), used inside its worker processes.

A worker lives under ``RLIMIT_AS`` (a memory blow-up is a ``MemoryError`` or a death) and
runs each input under a ``SIGALRM`` timer that raises :class:`Hang`; the parent's watchdog
kills a worker whose input outlived :func:`watchdog_s` (C code that never returns to Python
ignores alarms).
"""

from __future__ import annotations

import importlib
import logging
import os
import resource
import tempfile
import warnings
from pathlib import Path

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space per worker


class Hang(BaseException):
    """The per-input alarm. Not an Exception, so code under test that catches Exception cannot swallow it."""


def alarm(_s, _f):
    raise Hang()


def watchdog_s(hang_s: float) -> float:
    """How long the parent lets an input run before killing the worker: the alarm had its chance by then."""
    return hang_s + max(hang_s, 5.0)


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def quiet() -> None:
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")  # pydicom warns on most mutants; formatting them is a real share of the time


def scratch_dir(prefix: str) -> Path:
    shm = Path("/dev/shm")  # mutants are written once per input: keep them in memory where there is a tmpfs
    return Path(tempfile.mkdtemp(prefix=prefix, dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))


def load_target(spec: str):
    """``module:function`` of the code under test (the default is the app's index + load path)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
