"""The burned-in text decision of a de-identified export: confirm, or list rectangles to blank.

Shown after an export refused files for possible burned-in text (the domain decides which:
:func:`medstation.imaging.deid.pixels.burned_in_reason`). The dialog only gathers the
decision as a :class:`~medstation.imaging.deid.export.DeidRequest`; the export job applies and
audits it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
    QSpinBox, QTableWidget, QVBoxLayout, QWidget,
)

from medstation.imaging.deid.export import DeidRequest
from medstation.imaging.deid.pixels import MaskRect
from medstation.imaging.deid.profile import DeidOption

_COLUMNS = ("X", "Y", "Width", "Height")


class BurnedInDialog(QDialog):
    """Lists the refused files and why; collects rectangles (pixels) or a confirmation."""

    def __init__(self, refused: list[tuple[str, str]], options: frozenset = frozenset(), parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Burned-in text")
        self._options = options
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(refused)} image(s) may show identifying text in their pixels. "
                                "Blank the regions that carry it, or confirm that you checked them."))
        self.files = QListWidget()
        for path, reason in refused:
            self.files.addItem(f"{Path(path).name}: {reason}")
        layout.addWidget(self.files)
        layout.addWidget(QLabel("Rectangles to blank in every listed image (pixels from the top-left corner):"))
        self.rects = QTableWidget(0, len(_COLUMNS))
        self.rects.setHorizontalHeaderLabels(_COLUMNS)
        self.rects.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.rects)
        row = QHBoxLayout()
        self.add_button, self.remove_button = QPushButton("Add rectangle"), QPushButton("Remove selected")
        self.add_button.clicked.connect(lambda: self.add_rect(0, 0, 100, 40))
        self.remove_button.clicked.connect(self._on_remove_clicked)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.confirm = QCheckBox("I have checked these images: export them without masking")
        layout.addWidget(self.confirm)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.confirm.toggled.connect(self._update_ok)
        self.rects.model().rowsInserted.connect(self._update_ok)
        self.rects.model().rowsRemoved.connect(self._update_ok)
        self._update_ok()

    def add_rect(self, x: int, y: int, width: int, height: int) -> None:
        row = self.rects.rowCount()
        self.rects.insertRow(row)
        for column, (value, minimum) in enumerate(((x, 0), (y, 0), (width, 1), (height, 1))):
            spin = QSpinBox()
            spin.setRange(minimum, 65535)
            spin.setValue(value)
            self.rects.setCellWidget(row, column, spin)

    def masks(self) -> tuple[MaskRect, ...]:
        return tuple(MaskRect(*(self.rects.cellWidget(r, c).value() for c in range(len(_COLUMNS))))
                     for r in range(self.rects.rowCount()))

    def request(self) -> DeidRequest | None:
        """The decision: masks when any rectangle is listed, else a confirmation; None when neither."""
        masks = self.masks()
        if masks:
            return DeidRequest(options=self._options, masks=masks)
        if self.confirm.isChecked():
            return DeidRequest(options=self._options, confirm_burned_in=True)
        return None

    def _on_remove_clicked(self) -> None:
        for row in sorted({i.row() for i in self.rects.selectedIndexes()}, reverse=True):
            self.rects.removeRow(row)

    def _update_ok(self, *_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.rects.rowCount() > 0 or self.confirm.isChecked())


def ask_burned_in_decision(parent: QWidget, report) -> DeidRequest | None:
    """Modal: the request for re-exporting ``report``'s burned-in refusals, or None when cancelled."""
    refused = [(p, r) for p, r in report.refused if p in set(report.refused_for_burned_in)]

    dialog = BurnedInDialog(refused, frozenset(DeidOption(o) for o in report.options), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.request()
