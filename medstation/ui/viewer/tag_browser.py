"""DICOM tag browser: the header of the file behind the current slice, with a filter box."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


class TagBrowser(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter tags (keyword, tag or value)…")
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Tag", "Name", "VR", "Value"])
        self.tree.setColumnWidth(0, 92)
        self.tree.setColumnWidth(1, 170)
        self.tree.setColumnWidth(2, 30)
        self.tree.setUniformRowHeights(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree)
        self.path = ""

    def show_tags(self, path: str, rows) -> None:
        """``rows``: TagRow list from ``ImagingService.tags`` (depth gives the nesting)."""
        self.path = path
        self.tree.clear()
        parents: list[QTreeWidgetItem | None] = [None]
        for row in rows:
            item = QTreeWidgetItem([row.tag, row.name, row.vr, row.value])
            item.setToolTip(3, row.value)
            depth = min(row.depth, len(parents) - 1)
            parent = parents[depth]
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            del parents[depth + 1 :]
            parents.append(item)
        self._apply_filter(self.filter_edit.text())

    def row_count(self) -> int:
        return self.tree.topLevelItemCount()

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            hay = " ".join(item.text(c) for c in range(4)).lower()
            item.setHidden(bool(needle) and needle not in hay)
