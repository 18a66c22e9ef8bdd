"""Work-arounds for defects of the installed Qt binding, applied once when ``medstation.ui`` is imported.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a
reference to it, so every ``sig.emit(...)`` made from Python lowers the
reference count of ``True`` by one. After a few thousand emits (streamed tokens,
progress lines, mouse moves) CPython deallocates ``True`` and aborts with
``Fatal Python error: bool_dealloc``. We detect the defect with a probe signal
and, only if present, wrap ``emit`` to restore the missing reference.
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
