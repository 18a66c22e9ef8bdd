"""Small dialogs of the Notes tab: text entry, revision diff, custom template editor."""

from __future__ import annotations

import difflib
import html
import json

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QTextBrowser,
                               QVBoxLayout)

TEMPLATE_EXAMPLE = {
    "name": "progress",
    "title": "Progress note",
    "sections": [
        {"key": "presentation", "title": "Presentation", "instruction": "Mood, affect, what the client reports.",
         "cues": ["history", "exam"], "max_sentences": 8},
        {"key": "plan", "title": "Treatment plan", "instruction": "Homework and next session.", "cues": ["plan"],
         "keywords": ["homework"], "min_sentences": 1, "max_sentences": 6},
    ],
}


class TextDialog(QDialog):
    """Paste or edit a transcript (or write an addendum)."""

    def __init__(self, title: str, prompt: str, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(700, 500)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        self.edit = QPlainTextEdit(text)
        layout.addWidget(self.edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.edit.toPlainText()


def diff_html(old: str, new: str) -> str:
    """Word-level diff as HTML: deletions struck red, insertions green (escaped)."""
    a, b = old.split(" "), new.split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(f"<span style='background:#fecaca;text-decoration:line-through'>"
                       f"{html.escape(' '.join(a[i1:i2]))}</span>")
        if op in ("insert", "replace"):
            out.append(f"<span style='background:#bbf7d0'>{html.escape(' '.join(b[j1:j2]))}</span>")
    return "<div style='white-space:pre-wrap;font-family:sans-serif'>" + " ".join(out) + "</div>"


class DiffDialog(QDialog):
    """Pick two revisions (the first is the AI draft) and see the word diff between them."""

    def __init__(self, revisions, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare revisions")
        self.resize(900, 600)
        self.revisions = revisions
        layout = QVBoxLayout(self)
        self.left, self.right = QComboBox(), QComboBox()
        for r in revisions:
            label = f"#{r.number} {r.kind} by {r.author} ({100 * r.ai_share:.0f}% AI)"
            self.left.addItem(label)
            self.right.addItem(label)
        self.right.setCurrentIndex(len(revisions) - 1)
        layout.addWidget(self.left)
        layout.addWidget(self.right)
        self.view = QTextBrowser()
        layout.addWidget(self.view)
        self.left.currentIndexChanged.connect(self.refresh)
        self.right.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        a, b = self.revisions[self.left.currentIndex()], self.revisions[self.right.currentIndex()]
        self.view.setHtml(diff_html(a.text, b.text))


class TemplateDialog(QDialog):
    """Edit a custom template as JSON; the Notes service validates it on save."""

    def __init__(self, spec: dict | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Custom note template")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Sections with per-section instructions and length bounds. Cue groups: history, "
                                "exam, assessment, plan, intervention, response."))
        self.edit = QPlainTextEdit(json.dumps(spec or TEMPLATE_EXAMPLE, indent=2))
        layout.addWidget(self.edit)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b91c1c")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.spec: dict | None = None

    def _check(self) -> None:
        try:
            self.spec = json.loads(self.edit.toPlainText())
        except json.JSONDecodeError as exc:
            self.error.setText(f"Not valid JSON: {exc.msg} (line {exc.lineno}).")
            return
        self.accept()
