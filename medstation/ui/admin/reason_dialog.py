"""The reason an admin gives for a forced promotion or a rollback (it is written to the audit event).

The dialog only collects: what is about to happen (``intro``), a required reason and, for
actions that change what the clinic's viewer uses, an explicit "I understand" tick. The
decision and the audit stay in :class:`~medstation.training.service.TrainingService`.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget)

MIN_REASON_CHARS = 10  # "ok", "test" are not reasons anyone can audit later


class ReasonDialog(QDialog):
    """``reason()`` is the trimmed text once accepted; OK stays disabled until the reason is long enough
    (and the confirmation ticked, when there is one)."""

    def __init__(self, title: str, intro: str, action: str, *, confirm: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("reason")
        self.reason_edit.setPlaceholderText(f"Reason (at least {MIN_REASON_CHARS} characters; stored in the audit "
                                            "log with your name)")
        self.reason_edit.setFixedHeight(90)
        self.confirm = QCheckBox(confirm) if confirm else None
        self.hint = QLabel("")
        self.hint.setStyleSheet("color: #a02020;")
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(action)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(QLabel("Reason"))
        layout.addWidget(self.reason_edit)
        if self.confirm is not None:
            layout.addWidget(self.confirm)
            self.confirm.toggled.connect(self._update)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._update)
        self._update()

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()

    def _missing(self) -> str:
        if len(self.reason()) < MIN_REASON_CHARS:
            return f"Write a reason of at least {MIN_REASON_CHARS} characters."
        if self.confirm is not None and not self.confirm.isChecked():
            return "Tick the confirmation."
        return ""

    def _update(self) -> None:
        missing = self._missing()
        self.ok.setEnabled(not missing)
        self.hint.setText(missing if self.reason() else "")

    def _submit(self) -> None:
        if not self._missing():
            self.accept()


def ask_reason(parent: QWidget, title: str, intro: str, action: str, *, confirm: str = "") -> str | None:
    """Show a :class:`ReasonDialog` modally; the reason, or None when cancelled (tests replace this function)."""
    dialog = ReasonDialog(title, intro, action, confirm=confirm, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.reason()
