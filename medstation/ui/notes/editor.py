"""The note editor: a QTextEdit over a :class:`~medstation.notes.spans.TrackedText`.

Every change the user types is one ``replace`` on the tracked text, placed where Qt says the document
changed (``contentsChange``), so span tags follow the words even when the same letters repeat. Text moved
inside the note keeps its authors: a copy or cut carries the spans of the selection (``SPANS_MIME``), and
a paste or drop of that data is a :meth:`~TrackedText.insert` (AI text stays AI text, marked edited).
Undo and redo are the editor's own: each restores an earlier tracked state exactly
(:meth:`~TrackedText.restore`), where Qt's undo would replay the letters as if a human typed them.

Colours: AI draft blue, AI text edited by a human amber, human text green, template headings bold grey;
invented facts get a red wavy underline, AI sentences without evidence an orange one. The sentence under
the cursor is reported with its evidence lines (``sig_sentence_selected``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QTextEdit

from medstation.notes.spans import Span, SpanKind, TrackedText

KIND_COLOURS = {SpanKind.ai: "#dbeafe", SpanKind.ai_edited: "#fde68a", SpanKind.human: "#bbf7d0",
                SpanKind.template: "#ffffff"}
KIND_LABELS = {SpanKind.ai: "AI draft", SpanKind.ai_edited: "AI draft edited by a human",
               SpanKind.human: "human-written", SpanKind.template: "template"}
SPANS_MIME = "application/x-medstation-note-spans"  # JSON list of span dicts of the copied selection
UNDO_DEPTH = 200


def _encode(pieces: list[Span]) -> bytes:
    return json.dumps([{"text": p.text, "kind": p.kind.value, "author": p.author, "at": p.at, "chunk": p.chunk,
                        "section": p.section} for p in pieces]).encode("utf-8")


def release_clipboard_spans() -> None:
    """Replace attribution data this editor put on the clipboard with plain text made by Qt itself.

    Called when the application quits (and after each UI test): the text stays on the clipboard, the
    Python-made QMimeData is freed while Python still runs."""
    app = QApplication.instance()
    if app is None:
        return
    clipboard = app.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(SPANS_MIME):
        clipboard.setText(mime.text())


def decode_pieces(mime: QMimeData) -> list[Span] | None:
    """The tracked pieces a copy of this editor put on ``mime``; None when absent or not matching its text
    (data changed by another program is plain text, pasted as a human's)."""
    if mime is None or not mime.hasFormat(SPANS_MIME):
        return None
    try:
        raw = json.loads(bytes(mime.data(SPANS_MIME)).decode("utf-8"))
        pieces = [Span(d["text"], SpanKind(d["kind"]), d.get("author", ""), d.get("at", ""), d.get("chunk", ""),
                       d.get("section", "")) for d in raw]
    except (ValueError, KeyError, TypeError):
        return None
    return pieces if "".join(p.text for p in pieces) == mime.text() else None


class NoteEditor(QTextEdit):
    sig_sentence_selected = Signal(str, list)  # chunk id, evidence line numbers
    sig_edited = Signal()

    def __init__(self, author: str | Callable[[], str], parent=None) -> None:
        """``author``: a name, or a callable giving the name of whoever is signed in now (the window's user
        can change under an open note: "Switch user…" keeps the window and its editor)."""
        super().__init__(parent)
        app = QApplication.instance()
        if app is not None and not app.property("medstation_clipboard_release"):  # once per application
            app.setProperty("medstation_clipboard_release", True)
            app.aboutToQuit.connect(release_clipboard_spans)
        self._author = author
        self.doc = TrackedText()
        self.evidence: dict[str, list[int]] = {}
        self.fact_flags: dict[str, list[tuple[int, int]]] = {}
        self._last_text = ""
        self._applying = False
        self._change: tuple[int, int, int] | None = None
        self._changes = 0
        self._undo: list[list[Span]] = []
        self._redo: list[list[Span]] = []
        self._typing_end: int | None = None  # where the last one-character insertion ended (typing joins one step)
        self._formats: dict[tuple, QTextCharFormat] = {}
        self.setAcceptRichText(False)
        self.setUndoRedoEnabled(False)  # undo/redo restore tracked states (see undo/redo)
        self.setFont(QFont("DejaVu Sans", 10))
        self.document().contentsChange.connect(self._on_contents_change)
        self.document().contentsChanged.connect(self._on_contents_changed)
        self.cursorPositionChanged.connect(self._on_cursor_moved)

    @property
    def author(self) -> str:
        """Who typed the edit being recorded: asked at each edit, never remembered from when the editor was built."""
        return self._author() if callable(self._author) else self._author

    def set_tracked(self, doc: TrackedText, evidence: dict[str, list[int]] | None = None,
                    fact_flags: dict[str, list[tuple[int, int]]] | None = None) -> None:
        if doc is not self.doc:
            self._undo, self._redo, self._typing_end = [], [], None
        self.doc = doc
        if evidence is not None:
            self.evidence = dict(evidence)
        if fact_flags is not None:
            self.fact_flags = dict(fact_flags)
        self._show_doc()

    def _show_doc(self, cursor_at: int | None = None) -> None:
        scroll = self.verticalScrollBar().value()
        self._applying = True
        try:
            self.setPlainText(self.doc.text)
            self._last_text = self.doc.text
        finally:
            self._applying = False
        if cursor_at is not None:
            cursor = self.textCursor()
            cursor.setPosition(min(cursor_at, len(self.doc.text)))
            self.setTextCursor(cursor)
        self.verticalScrollBar().setValue(scroll)
        self.recolour()

    # --- typed edits ------------------------------------------------------------------------------

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        if not self._applying:
            self._change = (position, removed, added)
            self._changes += 1

    def _edit_range(self, old: str, new: str) -> tuple[int, int, int]:
        """``(start, end_old, end_new)``: old[start:end_old] became new[start:end_new]. Qt's reported range
        when it explains the change (exact where letters repeat), else the minimal differing range."""
        lo, hi_old, hi_new = 0, len(old), len(new)
        if self._changes == 1 and self._change is not None:
            pos, removed, added = self._change
            removed = min(removed, len(old) - pos)
            if 0 <= pos <= len(old) and pos + added <= len(new) and \
                    old[:pos] + new[pos:pos + added] + old[pos + removed:] == new:
                lo, hi_old, hi_new = pos, pos + removed, pos + added
        start = lo
        while start < hi_old and start < hi_new and old[start] == new[start]:
            start += 1
        end_old, end_new = hi_old, hi_new
        while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
            end_old -= 1
            end_new -= 1
        return start, end_old, end_new

    def _on_contents_changed(self) -> None:
        if self._applying:
            return
        new, old = self.toPlainText(), self._last_text
        try:
            if new == old:
                return
            start, end_old, end_new = self._edit_range(old, new)
        finally:
            self._change, self._changes = None, 0
        typing = end_old == start and end_new == start + 1 and new[start] != "\n"
        if not (typing and self._typing_end == start):
            self._push_undo()
        self._typing_end = end_new if typing else None
        self.doc.replace(start, end_old, new[start:end_new], author=self.author)
        self._last_text = new
        self.recolour(start, end_new)
        self.sig_edited.emit()

    # --- moved text keeps its authors -------------------------------------------------------------
    # The attribution rides in a QMimeData built here; the clipboard owns it afterwards. At exit Qt would
    # free it after Python has torn down its wrapper (a segfault at shutdown, seen in every test run that
    # copied text), so :func:`release_clipboard_spans` swaps it for Qt's own plain-text data on quit.

    def createMimeDataFromSelection(self) -> QMimeData:  # noqa: N802 (Qt naming)
        cursor = self.textCursor()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        mime = QMimeData()  # Qt's own (QTextEditMimeData) lists a fixed set of formats: ours would be hidden
        mime.setText(self.toPlainText()[start:end])
        if end > start and self.toPlainText() == self.doc.text:
            mime.setData(SPANS_MIME, _encode(self.doc.pieces(start, end)))
        return mime

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 (Qt naming)
        pieces = decode_pieces(source)
        if pieces is None or self.isReadOnly():
            super().insertFromMimeData(source)  # plain text from elsewhere: typed by a human, as far as we know
            return
        cursor = self.textCursor()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        self.tracked_edit(lambda: self._place(start, end, start, pieces), start + len(source.text()))

    def _place(self, start: int, end: int, at: int, pieces: list[Span]) -> None:
        if end > start:
            self.doc.replace(start, end, "", author=self.author)
        self.doc.insert(at, pieces, author=self.author)

    def move_text(self, start: int, end: int, dest: int) -> bool:
        """Move ``[start, end)`` to ``dest`` (a position in the text before the move), keeping its authors.
        Dropping inside the moved range changes nothing (False)."""
        if start <= dest <= end or end <= start:
            return False
        pieces = self.doc.pieces(start, end)
        at = dest - (end - start) if dest > end else dest
        self.tracked_edit(lambda: self._place(start, end, at, pieces), at + (end - start))
        return True

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        pieces = decode_pieces(event.mimeData())
        if pieces is None or self.isReadOnly():
            super().dropEvent(event)
            return
        dest = self.cursorForPosition(event.position().toPoint()).position()
        cursor = self.textCursor()
        own = event.source() in (self, self.viewport()) and cursor.hasSelection()
        if own and event.dropAction() != Qt.DropAction.CopyAction:
            self.move_text(cursor.selectionStart(), cursor.selectionEnd(), dest)
            event.setDropAction(Qt.DropAction.MoveAction)
        else:
            self.tracked_edit(lambda: self.doc.insert(dest, pieces, author=self.author),
                               dest + len(event.mimeData().text()))
            event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def tracked_edit(self, edit, cursor_at: int) -> None:
        """Run ``edit()`` (a change of :attr:`doc`) as one undoable step and show the result."""
        self._push_undo()
        self._typing_end = None
        edit()
        self._show_doc(cursor_at)
        self.sig_edited.emit()

    # --- undo / redo ------------------------------------------------------------------------------

    def _push_undo(self) -> None:
        self._undo.append(list(self.doc.spans))
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def undo(self) -> None:
        self._step(self._undo, self._redo)

    def redo(self) -> None:
        self._step(self._redo, self._undo)

    def _step(self, source: list, target: list) -> None:
        if not source or self.isReadOnly():
            return
        target.append(list(self.doc.spans))
        before = self.textCursor().position()
        self.doc.restore(source.pop())
        self._typing_end = None
        self._show_doc(min(before, len(self.doc.text)))
        self.sig_edited.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.redo()
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        menu = self.createStandardContextMenu(event.pos())
        for action in menu.actions():  # Qt's own entries are off (setUndoRedoEnabled(False)): use ours
            if action.objectName() == "edit-undo":
                action.setEnabled(bool(self._undo) and not self.isReadOnly())
                action.triggered.connect(self.undo)
            elif action.objectName() == "edit-redo":
                action.setEnabled(bool(self._redo) and not self.isReadOnly())
                action.triggered.connect(self.redo)
        menu.exec(event.globalPos())
        menu.deleteLater()

    # --- colours and evidence ---------------------------------------------------------------------

    def _format(self, kind: SpanKind, unsupported: bool, flagged: bool = False) -> QTextCharFormat:
        """One shared format per look (built once: recolouring runs on every key)."""
        key = (kind, unsupported, flagged)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(KIND_COLOURS[kind]))
            fmt.setFontWeight(QFont.Weight.Bold if kind is SpanKind.template else QFont.Weight.Normal)
            if unsupported:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
                fmt.setUnderlineColor(QColor("#ea580c"))
                fmt.setToolTip("No transcript line supports this sentence")
            if flagged:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(QColor("#dc2626"))
                fmt.setToolTip("Not found in the transcript")
            self._formats[key] = fmt
        return fmt

    def recolour(self, start: int = 0, end: int | None = None) -> None:
        """Background per span kind; underlines for flagged facts and unsupported AI sentences.

        With ``start``/``end`` (a typed edit) only the spans touching ``[start - 1, end + 1]`` and the other
        spans of their AI chunks (whose kind may have changed) are recoloured."""
        end = len(self.doc.text) if end is None else end
        placed, pos = [], 0
        for span in self.doc.spans:
            placed.append((pos, span))
            pos += len(span.text)
        near = {p for p, s in placed if p <= end + 1 and p + len(s.text) >= start - 1}
        chunks = {s.chunk for p, s in placed if p in near and s.chunk}
        chosen = [(p, s) for p, s in placed if p in near or (s.chunk and s.chunk in chunks)]
        self._applying = True
        try:
            cursor = QTextCursor(self.document())
            for pos, span in chosen:
                unsupported = span.kind in (SpanKind.ai, SpanKind.ai_edited) and bool(span.chunk) and \
                    not self.evidence.get(span.chunk)
                cursor.setPosition(pos)
                cursor.setPosition(pos + len(span.text), QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(self._format(span.kind, unsupported))
                for a, b in self._flag_ranges(span.chunk, pos, span):
                    cursor.setPosition(a)
                    cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
                    cursor.setCharFormat(self._format(span.kind, unsupported, flagged=True))
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
