"""The note editor: a QTextEdit over a :class:`~medstation.notes.spans.TrackedText`.

Every change the user makes is turned into one ``replace`` on the tracked
text (the minimal differing range between the old and new plain text), so
span tags follow the words. Colours: AI draft blue, AI text edited by a human
amber, human text green, template headings bold grey; invented facts get a
red wavy underline, AI sentences without evidence an orange one. The sentence
under the cursor is reported with its evidence lines (``sig_sentence_selected``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

from medstation.notes.spans import SpanKind, TrackedText

KIND_COLOURS = {SpanKind.ai: "#dbeafe", SpanKind.ai_edited: "#fde68a", SpanKind.human: "#bbf7d0",
                SpanKind.template: "#ffffff"}
KIND_LABELS = {SpanKind.ai: "AI draft", SpanKind.ai_edited: "AI draft edited by a human",
               SpanKind.human: "human-written", SpanKind.template: "template"}


class NoteEditor(QTextEdit):
    sig_sentence_selected = Signal(str, list)  # chunk id, evidence line numbers
    sig_edited = Signal()

    def __init__(self, author: str, parent=None) -> None:
        super().__init__(parent)
        self.author = author
        self.doc = TrackedText()
        self.evidence: dict[str, list[int]] = {}
        self.fact_flags: dict[str, list[tuple[int, int]]] = {}
        self._last_text = ""
        self._applying = False
        self.setAcceptRichText(False)
        self.setFont(QFont("DejaVu Sans", 10))
        self.document().contentsChanged.connect(self._on_contents_changed)
        self.cursorPositionChanged.connect(self._on_cursor_moved)

    def set_tracked(self, doc: TrackedText, evidence: dict[str, list[int]] | None = None,
                    fact_flags: dict[str, list[tuple[int, int]]] | None = None) -> None:
        self.doc = doc
        if evidence is not None:
            self.evidence = dict(evidence)
        if fact_flags is not None:
            self.fact_flags = dict(fact_flags)
        self._applying = True
        try:
            self.setPlainText(doc.text)
            self._last_text = doc.text
        finally:
            self._applying = False
        self.recolour()

    def _on_contents_changed(self) -> None:
        if self._applying:
            return
        new = self.toPlainText()
        old = self._last_text
        if new == old:
            return
        start = 0
        while start < min(len(old), len(new)) and old[start] == new[start]:
            start += 1
        end_old, end_new = len(old), len(new)
        while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
            end_old -= 1
            end_new -= 1
        self.doc.replace(start, end_old, new[start:end_new], author=self.author)
        self._last_text = new
        self.recolour()
        self.sig_edited.emit()

    def recolour(self) -> None:
        """Background per span kind; underlines for flagged facts and unsupported AI sentences."""
        self._applying = True
        try:
            cursor = QTextCursor(self.document())
            pos = 0
            for span in self.doc.spans:
                fmt = QTextCharFormat()
                fmt.setBackground(QColor(KIND_COLOURS[span.kind]))
                fmt.setFontWeight(QFont.Weight.Bold if span.kind is SpanKind.template else QFont.Weight.Normal)
                if span.kind in (SpanKind.ai, SpanKind.ai_edited) and span.chunk and not self.evidence.get(span.chunk):
                    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
                    fmt.setUnderlineColor(QColor("#ea580c"))
                    fmt.setToolTip("No transcript line supports this sentence")
                cursor.setPosition(pos)
                cursor.setPosition(pos + len(span.text), QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(fmt)
                for a, b in self._flag_ranges(span.chunk, pos, span):
                    flag = QTextCharFormat(fmt)
                    flag.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                    flag.setUnderlineColor(QColor("#dc2626"))
                    flag.setToolTip("Not found in the transcript")
                    cursor.setPosition(a)
                    cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
                    cursor.setCharFormat(flag)
                pos += len(span.text)
        finally:
            self._applying = False

    def _flag_ranges(self, chunk: str, pos: int, span):
        if span.kind is not SpanKind.ai or chunk not in self.fact_flags:
            return []
        return [(pos + a, pos + b) for a, b in self.fact_flags[chunk] if b <= len(span.text)]

    def chunk_at(self, position: int) -> str:
        pos = 0
        for span in self.doc.spans:
            if pos <= position < pos + len(span.text):
                return span.chunk
            pos += len(span.text)
        return ""

    def _on_cursor_moved(self) -> None:
        chunk = self.chunk_at(self.textCursor().position())
        self.sig_sentence_selected.emit(chunk, list(self.evidence.get(chunk, [])))

    def highlight_chunks(self, chunks: set[str]) -> None:
        """Outline the sentences that use a transcript line (clicked in the transcript)."""
        selections, pos = [], 0
        for span in self.doc.spans:
            if span.chunk in chunks:
                sel = QTextEdit.ExtraSelection()
                sel.format.setBackground(QColor("#fde047"))
                sel.cursor = QTextCursor(self.document())
                sel.cursor.setPosition(pos)
                sel.cursor.setPosition(pos + len(span.text), QTextCursor.MoveMode.KeepAnchor)
                selections.append(sel)
            pos += len(span.text)
        self.setExtraSelections(selections)
