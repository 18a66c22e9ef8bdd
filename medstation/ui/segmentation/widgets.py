"""Small widgets of the segmentation panel: the segment list and the measurement table."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap, QIcon
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QListWidget, QListWidgetItem, QTableWidget, QTableWidgetItem

from medstation.segmentation.measure import SegmentMeasurements


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class SegmentList(QListWidget):
    """Segments by name with their colour; double-click renames. ``sig_renamed(key, name)``."""

    sig_renamed = Signal(int, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.itemChanged.connect(self._on_item_changed)
        self._filling = False

    def fill(self, segments, current_key: int | None) -> None:
        self._filling = True
        self.clear()
        for seg in segments:
            state = getattr(seg.status, "value", seg.status)
            flagged = bool(getattr(seg, "flags", None)) and seg.mask.any()
            item = QListWidgetItem(_swatch(seg.color), seg.name)
            item.setData(Qt.ItemDataRole.UserRole, seg.key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(f"{state.upper()}: {seg.name}" + (f"\nFLAGGED: {'; '.join(seg.flags)}" if flagged else ""))
            item.setText(f"{seg.name}  [{state}{', flagged' if flagged else ''}]")
            self.addItem(item)
            if seg.key == current_key:
                self.setCurrentItem(item)
        self._filling = False

    def current_key(self) -> int | None:
        item = self.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:  # the status suffix is ours, not part of the name
            text = item.text()
            name = text.rsplit("  [", 1)[0] if text.endswith("]") and "  [" in text else text
            self.sig_renamed.emit(int(item.data(Qt.ItemDataRole.UserRole)), name)


class MeasurementTable(QTableWidget):
    """Quantity | value rows for one segment; numbers only, no interpretation."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Quantity", "Value"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def show_measurements(self, m: SegmentMeasurements | None, current_slice: int) -> None:
        rows: list[tuple[str, str]] = []
        if m is not None:
            unit = f" {m.unit}" if m.unit else ""
            area = m.area_mm2_by_slice.get(current_slice)
            rows = [
                ("Volume", f"{m.volume_ml:.2f} mL"),
                ("Long axis", f"{m.long_axis_mm:.1f} mm (slice {m.axis_slice + 1})"),
                ("Short axis", f"{m.short_axis_mm:.1f} mm"),
                (f"Area, slice {current_slice + 1}", f"{area:.1f} mm²" if area else "—"),
                ("Mean ± SD", f"{m.mean:.1f} ± {m.sd:.1f}{unit}"),
                ("Min / max", f"{m.minimum:.0f} / {m.maximum:.0f}{unit}"),
                ("Slices", f"{len(m.area_mm2_by_slice)}"),
                ("Voxels", f"{m.voxel_count}"),
            ]
        self.setRowCount(len(rows))
        for r, (name, value) in enumerate(rows):
            self.setItem(r, 0, QTableWidgetItem(name))
            self.setItem(r, 1, QTableWidgetItem(value))
