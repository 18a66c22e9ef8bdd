"""The Notes tab fits a small screen: at the window's smallest size (960x600) and on a 1280x800 laptop every
control of the tab stays inside the window with its whole label, and the note editor keeps room to write in.

Fails on commit 7d7286b (helper "breaknotes"): the tab's rows of buttons and its three columns asked for at
least 1362 px, so in a 1280 px window the layout squeezed the buttons below their labels ("knowledge r" for
Acknowledge risk; at 960 px "tport te" and "tport PD" for the two exports, "wap speake" for Swap speakers).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QPushButton



@pytest.fixture
def window(main_window_on):
    return main_window_on(1280, 800)


def _inside(window, widget) -> bool:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return widget.isVisible() and window.rect().contains(rect)


@pytest.mark.parametrize("size", [(1280, 800), (960, 600)])
def test_every_notes_control_stays_inside_a_small_window(qtbot, window, size):
    window.show()
    window.select_tab("notes")
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() <= size[0] and window.height() <= size[1], timeout=5000)
    qtbot.wait(200)  # let the layouts settle
    tab = window.notes_tab
    assert window.width() <= size[0] and window.height() <= size[1]
    buttons = [b for b in tab.findChildren(QPushButton) if b.isVisibleTo(tab)]
    assert len(buttons) >= 19
    outside = [b.text() for b in buttons if not _inside(window, b)]
    assert not outside, f"outside the {size[0]}x{size[1]} window: {outside}"
    cut = [f"{b.text()} ({b.width()} < {b.sizeHint().width()} px)" for b in buttons
           if b.width() < b.sizeHint().width()]
    assert not cut, f"labels cut at {size[0]}x{size[1]}: {cut}"
    for widget in (tab.editor, tab.transcript, tab.risks, tab.note_list, tab.tree):
        assert _inside(window, widget)
    assert tab.editor.width() >= 300 and tab.editor.height() >= 120
