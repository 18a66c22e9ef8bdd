"""A tab whose feature is not built yet: it says plainly what it will do, with no sample data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlannedTab(QWidget):
    def __init__(self, title: str, bullet_points: list[str]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        heading = QLabel(f"<h2>{title}</h2><p><b>Not available yet in this version.</b> It will offer:</p>")
        layout.addWidget(heading)
        items = "".join(f"<li>{point}</li>" for point in bullet_points)
        body = QLabel(f"<ul>{items}</ul>")
        body.setWordWrap(True)
        layout.addWidget(body)
        self.title = title
