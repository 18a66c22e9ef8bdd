"""PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void method call; medstation.ui pins None.

Without the pin a fresh interpreter aborts (``Fatal Python error: none_dealloc``) after about 4,500 void
calls, e.g. a few minutes of typing in the note editor, which recolours on every key. Run in a child
interpreter so a crash fails this test instead of the whole run. Fails on 1c99c71 (exit code -6).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import medstation.ui
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QColor
app = QGuiApplication([])
fmt = QTextCharFormat()
for _ in range(20_000):
    fmt.setBackground(QColor("#dbeafe"))
    fmt.setFontWeight(400)
print("alive")
"""


def test_twenty_thousand_void_calls_do_not_abort_the_interpreter():
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-2000:]
