"""Python's cyclic garbage collection, run only in the GUI thread while jobs run in worker threads.

CPython collects in whichever thread crosses an allocation threshold. A job thread that allocates a
lot (decoding audio, building a volume) then finalises whatever cyclic garbage exists, including
Qt objects of the GUI thread (widgets, connections, timers caught in reference cycles), from the wrong
thread. With PySide6 that can deadlock the window: the GUI thread waits for the interpreter lock
while the job thread, inside the collection, waits for a Qt lock the GUI thread holds (seen in a test
run on 2026-12-07). The usual cure in Qt applications (pyqtgraph, calibre): switch automatic
collection off while worker threads exist and collect from a GUI-thread timer with the same
generation thresholds.

:func:`acquire` is called by each :class:`~medstation.ui.runner.JobRunner` when it is built and
:func:`release` by its ``shutdown``; automatic collection comes back when the last runner is shut down.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from medstation.garbage import collect_due

#: How often the GUI thread checks the allocation counts (ms). A gen-0 collection costs well under 1 ms.
INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Owned by the QApplication (one per application, found again with ``findChild``)."""

    def __init__(self, app: QObject) -> None:
        super().__init__(app)
        self.setObjectName("gui_thread_gc")
        self.users = 0
        self._was_enabled = True
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)

    def acquire(self) -> None:
        if self.users == 0:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()
        self.users += 1

    def release(self) -> None:
        if self.users == 0:
            return
        self.users -= 1
        if self.users == 0:
            self._timer.stop()
            self.collect_due()
            if self._was_enabled:
                gc.enable()

    def collect_due(self) -> int | None:
        """What automatic collection would collect now (:func:`medstation.garbage.collect_due`)."""
        return collect_due()


def _collector(create: bool = True) -> GuiThreadCollector | None:
    app = QCoreApplication.instance()
    if app is None:
        return None
    found = app.findChild(GuiThreadCollector, "gui_thread_gc")
    return found if found is not None or not create else GuiThreadCollector(app)


def acquire() -> None:
    """Worker threads may now run jobs: collect in the GUI thread only (no-op without a Qt application)."""
    collector = _collector()
    if collector is not None:
        collector.acquire()


def release() -> None:
    collector = _collector(create=False)
    if collector is not None:
        collector.release()
