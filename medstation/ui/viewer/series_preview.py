"""The series browser's preview panel: the thumbnail and key facts of :mod:`medstation.imaging.preview`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from medstation.imaging.preview import THUMB_PX, SeriesPreview, preview_facts


class SeriesPreviewPanel(QWidget):
    """Thumbnail above the facts; ``show_pending`` while the job runs, ``show_preview`` with its result."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedHeight(THUMB_PX + 4)
        self.image.setStyleSheet("background: black; color: #bbb;")
        self.facts = QLabel("Click a series to preview it; double-click opens it.")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.image)
        layout.addWidget(self.facts)
        self.series_uid = ""

    def show_pending(self, series_uid: str, label: str) -> None:
        self.series_uid = series_uid
        self.image.clear()
        self.image.setText("preview…")
        self.facts.setText(f"{label}\nReading the middle slice…")

    def show_preview(self, preview: SeriesPreview) -> None:
        self.series_uid = preview.series_uid
        if preview.thumbnail is not None:
            thumb = preview.thumbnail
            qimage = QImage(thumb.data, thumb.shape[1], thumb.shape[0], thumb.strides[0], QImage.Format.Format_Grayscale8)
            self.image.setPixmap(QPixmap.fromImage(qimage.copy()).scaled(
                THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        else:
            self.image.clear()
            self.image.setText("no preview")
        self.facts.setText(preview_facts(preview))
        self.facts.setToolTip("\n".join(f"{p}: {r}" for p, r in preview.skipped[:50]))

    def show_failure(self, series_uid: str, message: str) -> None:
        self.series_uid = series_uid
        self.image.clear()
        self.image.setText("no preview")
        self.facts.setText(f"Preview failed: {message}\nDouble-click (or Enter) still tries to open it.")
