"""A status line that wraps, then elides, and never asks for more width than it is given.

A plain ``QLabel`` asks for the width of its text as its minimum (or of its longest word when it
wraps), so one long message (a folder path, a list of skipped files) widened the whole window
past the screen. :class:`StatusLine` reports a small fixed minimum width, wraps its text to at
most ``max_lines`` lines of whatever width the layout gives it, elides the rest with "…" and
keeps the full text in its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextLayout
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_WIDTH_PX = 80  # the most a status line ever adds to its row's minimum width


class StatusLine(QLabel):
    """``setText`` / ``text`` work on the full message; what is painted is its wrapped, elided form."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, max_lines: int = 2) -> None:
        super().__init__(parent)
        self.max_lines = max(1, int(max_lines))
        self._full = ""
        self._extra_tip = ""  # a caller's tooltip (e.g. the list of skipped files), kept under the full text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFixedHeight(self._height_for(self.max_lines))
        self.setText(text)

    # -- the full text --------------------------------------------------------------------------
    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self._full = str(text or "")
        self._relayout()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """The text as painted now (wrapped lines joined by newlines, the last one elided)."""
        return super().text()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt naming)
        self._extra_tip = str(tip or "")
        self._relayout()

    # -- sizing ---------------------------------------------------------------------------------
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(max(MIN_WIDTH_PX, self.minimumWidth()), self._height_for(self.max_lines))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return self.minimumSizeHint()

    def setFixedWidth(self, width: int) -> None:  # noqa: N802 (Qt naming)
        """A fixed width the layouts must reserve (slice counter, toolbar, status bar): policy Fixed, not Ignored."""
        super().setFixedWidth(width)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Fixed)
        self.setSizePolicy(policy)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._relayout()

    def _height_for(self, lines: int) -> int:
        m = self.contentsMargins()
        return QFontMetrics(self.font()).lineSpacing() * lines + m.top() + m.bottom() + 2

    def _relayout(self) -> None:
        width = max(10, self.contentsRect().width())
        shown = wrap_and_elide(self._full, self.font(), width, self.max_lines)
        QLabel.setText(self, shown)
        cut = shown.replace("\n", " ") != " ".join(self._full.split("\n"))
        tip = "\n\n".join(t for t in (self._full if cut else "", self._extra_tip) if t)
        QLabel.setToolTip(self, tip)


def wrap_and_elide(text: str, font: QFont, width: int, max_lines: int) -> str:
    """``text`` broken into lines no wider than ``width`` px; past ``max_lines`` the last line ends in "…".

    Words longer than a line (paths) are broken anywhere, so nothing is ever wider than ``width``.
    """
    if not text:
        return ""
    metrics = QFontMetrics(font)
    layout = QTextLayout(text.replace("\n", " "), font)
    option = layout.textOption()
    option.setWrapMode(option.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    lines: list[tuple[int, int]] = []
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append((line.textStart(), line.textLength()))
    layout.endLayout()
    flat = layout.text()
    if len(lines) <= max_lines:
        return "\n".join(flat[s:s + n].rstrip() for s, n in lines)
    kept = [flat[s:s + n].rstrip() for s, n in lines[:max_lines - 1]]
    rest = flat[lines[max_lines - 1][0]:]
    kept.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return "\n".join(kept)



def let_labels_shrink(root: QWidget) -> int:
    """Give every word-wrapping QLabel under ``root`` a minimum width of 0 (its text no longer widens the window).

    For panels built elsewhere: a wrapping label still asks for its longest word (a path, a long
    name) as minimum width. With the horizontal policy ``Ignored`` the layout gives it what is
    left and the text wraps inside; height-for-width is kept. Returns how many labels changed.
    """
    changed = 0
    for label in root.findChildren(QLabel):
        if label.wordWrap() and not isinstance(label, StatusLine):
            policy = label.sizePolicy()
            policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
            label.setSizePolicy(policy)
            changed += 1
    return changed
