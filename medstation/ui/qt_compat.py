"""Work-arounds for defects of the installed Qt binding, applied once when ``medstation.ui`` is imported.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a
reference to it, so every ``sig.emit(...)`` made from Python lowers the
reference count of ``True`` by one. After a few thousand emits (streamed tokens,
progress lines, mouse moves) CPython deallocates ``True`` and aborts with
``Fatal Python error: bool_dealloc``. We detect the defect with a probe signal
and, only if present, wrap ``emit`` to restore the missing reference.

The same build returns ``None`` from every void method (``QTextCursor.setPosition``,
``QTextCharFormat.setBackground``, ...) without a new reference: it assumes CPython
3.12's immortal singletons, but runs here on 3.11. Measured: each call lowers
``None``'s count by one, and a fresh interpreter (count about 4,500) aborts with
``none_dealloc`` after about 4,500 calls — a few minutes of typing in the note
editor, which recolours on every key. Wrapping every method is impossible, so
:func:`pin_none` does what 3.12 does: it gives ``None`` a reference count no
program can spend (2**40), only when a probe shows the defect.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

PROBE_EMITS = 50


class _Probe(QObject):
    sig = Signal(int)


def emit_loses_a_reference() -> bool:
    """True when ``SignalInstance.emit`` drops a reference to its return value (measured, not assumed)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for i in range(PROBE_EMITS):
        probe.sig.emit(i)
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= PROBE_EMITS // 2


def void_calls_lose_none() -> bool:
    """True when a void PySide6 method returns ``None`` without a reference (measured with a probe)."""
    from PySide6.QtCore import QPoint

    point = QPoint()
    before = sys.getrefcount(None)
    for _ in range(PROBE_EMITS):
        point.setX(1)
    lost = before - sys.getrefcount(None)
    for _ in range(max(0, lost)):  # give back what the probe itself took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return lost >= PROBE_EMITS // 2


PINNED_REFERENCES = 1 << 40


def pin_none() -> bool:
    """Make ``None`` effectively immortal when void calls lose references to it; returns whether it did."""
    if sys.version_info >= (3, 12) or not void_calls_lose_none():
        return False  # 3.12+: None is immortal already
    ctypes.c_ssize_t.from_address(id(None)).value += PINNED_REFERENCES
    log.info("PySide6 void-method refcount defect detected; None pinned")
    return True


def fix_signal_emit_refcount() -> bool:
    """Wrap ``SignalInstance.emit`` when it has the defect; returns whether the wrapper is installed."""
    if getattr(SignalInstance.emit, "_medstation_fixed", False):
        return True
    if not emit_loses_a_reference():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(ctypes.py_object(result))
        return result

    emit._medstation_fixed = True
    SignalInstance.emit = emit
    log.info("PySide6 SignalInstance.emit refcount defect detected; work-around installed")
    return True
