"""The PySide6 emit refcount work-around: thousands of emits, from the GUI and a worker thread, stay safe."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Signal

import medstation.ui  # noqa: F401  (installs the work-around)
from medstation.ui.qt_compat import emit_loses_a_reference


class Emitter(QObject):
    sig = Signal(object)


def test_emit_no_longer_drops_references_to_true(qtbot):
    assert not emit_loses_a_reference()
    emitter = Emitter()
    got = []
    emitter.sig.connect(got.append)
    before = sys.getrefcount(True)
    worker = threading.Thread(target=lambda: [emitter.sig.emit(i) for i in range(3000)])
    worker.start()
    worker.join()
    for i in range(3000):
        emitter.sig.emit(i)
    qtbot.waitUntil(lambda: len(got) == 6000, timeout=10_000)
    assert sys.getrefcount(True) >= before - 10  # without the fix: about 6000 lower, and a crash
