"""Domain tests run without Qt: any attempt to import it fails loudly."""

from __future__ import annotations

import sys

import pytest


class _BlockQt:
    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"domain tests must not import Qt ({name})")
        return None


@pytest.fixture(autouse=True)
def _no_qt_in_domain():
    already = [m for m in sys.modules if m.split(".")[0] in _BlockQt.BLOCKED]
    blocker = _BlockQt()
    sys.meta_path.insert(0, blocker)
    try:
        yield already
    finally:
        sys.meta_path.remove(blocker)
