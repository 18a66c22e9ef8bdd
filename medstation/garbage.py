"""Collect what Python's automatic garbage collection would collect now, in the calling thread.

Used where automatic collection is switched off so that it runs only in one thread (the GUI thread:
:mod:`medstation.ui.gui_thread_gc`; between tests: the root ``conftest.py``). No Qt here.
"""

from __future__ import annotations

import gc


def collect_due() -> int | None:
    """Collect the oldest generation whose allocation count passed its threshold, as automatic collection
    would; returns that generation, or None when nothing was due."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = None
    for generation in range(3):
        if counts[generation] <= thresholds[generation]:
            break
        due = generation
    if due is not None:
        gc.collect(due)
    return due
