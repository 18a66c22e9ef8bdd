"""The Measurements list: every ruler, ROI and angle of the series with its value; go to it or delete it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

ANNOTATION_ROLE = Qt.ItemDataRole.UserRole + 2


class MeasurementList(QWidget):
    """``sig_go_to(annotation)`` on double-click; ``sig_delete(annotation)`` from the button or the Delete key."""

    sig_go_to = Signal(object)
    sig_delete = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda item: self.sig_go_to.emit(item.data(ANNOTATION_ROLE)))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected measurement (Delete key)")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.hint = QLabel("Rulers, ROIs and angles you draw are listed here and saved with the series.")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.delete_button)
        layout.addLayout(row)

    def fill(self, annotations) -> None:
        self.list.clear()
        for a in annotations:
            item = QListWidgetItem(a.describe())
            item.setData(ANNOTATION_ROLE, a)
            item.setToolTip("Double-click to show it")
            self.list.addItem(item)
        self.delete_button.setEnabled(bool(annotations))

    def annotations(self) -> list:
        return [self.list.item(i).data(ANNOTATION_ROLE) for i in range(self.list.count())]

    def select(self, annotation) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ANNOTATION_ROLE) == annotation:
                self.list.setCurrentRow(i)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Delete:
            self._on_delete_clicked()
        else:
            super().keyPressEvent(event)

    def _on_delete_clicked(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.sig_delete.emit(item.data(ANNOTATION_ROLE))
