"""The segmentation panel's controls, built in one place so the panel module holds only behaviour."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider, QSpinBox, QVBoxLayout,
)

from medstation.ui.segmentation.widgets import MeasurementTable, SegmentList


def build_controls(panel) -> None:
    """Create the panel's widgets as attributes of ``panel`` and connect them to its slots."""
    layout = QVBoxLayout(panel)
    panel.engine_label = QLabel("Segmentation model not loaded yet.")
    panel.engine_label.setWordWrap(True)
    layout.addWidget(panel.engine_label)

    tools = QGridLayout()
    panel.tool_group = QButtonGroup(panel)
    panel.tool_buttons: dict[str, QPushButton] = {}
    for i, (name, label, tip) in enumerate([
        ("navigate", "Navigate", "Pan, zoom and scroll"),
        ("seg_box", "Box", "Drag a box around the structure: MedSAM segments inside it"),
        ("seg_point", "Points", "Left click: include; right/shift click: exclude (alone or refining a box)"),
        ("seg_brush", "Brush", "Paint onto the current segment"),
        ("seg_eraser", "Eraser", "Erase from the current segment"),
    ]):
        button = QPushButton(label)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.clicked.connect(lambda _c=False, n=name: panel.set_tool(n))
        panel.tool_group.addButton(button)
        panel.tool_buttons[name] = button
        tools.addWidget(button, i // 3, i % 3)
    layout.addLayout(tools)
    row = QHBoxLayout()
    row.addWidget(QLabel("Brush radius"))
    panel.brush_size = QSpinBox()
    panel.brush_size.setRange(1, 60)
    panel.brush_size.setSuffix(" px")
    panel.brush_size.setValue(int(panel.view.brush_radius_px))
    panel.brush_size.setToolTip("Brush and eraser radius in image pixels ([ and ] change it)")
    panel.brush_size.valueChanged.connect(lambda v: panel.set_brush_radius(v))
    row.addWidget(panel.brush_size, 1)
    layout.addLayout(row)
    for key, delta in (("[", -1), ("]", 1)):
        shortcut = QShortcut(QKeySequence(key), panel.viewer)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda d=delta: panel.brush_size.setValue(panel.brush_size.value() + d))

    row = QHBoxLayout()
    panel.undo_button = QPushButton("Undo")
    panel.redo_button = QPushButton("Redo")
    panel.undo_button.clicked.connect(panel.undo)
    panel.redo_button.clicked.connect(panel.redo)
    row.addWidget(panel.undo_button)
    row.addWidget(panel.redo_button)
    row.addWidget(QLabel("Opacity"))
    panel.opacity_slider = QSlider(Qt.Orientation.Horizontal)
    panel.opacity_slider.setRange(0, 100)
    panel.opacity_slider.setValue(int(panel.opacity * 100))
    panel.opacity_slider.valueChanged.connect(panel._on_opacity_changed)
    row.addWidget(panel.opacity_slider)
    layout.addLayout(row)
    for seq, slot in ((QKeySequence.StandardKey.Undo, panel.undo), (QKeySequence("Ctrl+Shift+Z"), panel.redo)):
        shortcut = QShortcut(seq, panel.viewer)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # not while typing notes elsewhere
        shortcut.activated.connect(slot)

    row = QHBoxLayout()
    panel.propagate_button = QPushButton("Propagate")
    panel.propagate_button.setToolTip("Carry the mask on this slice up and down the series")
    panel.propagate_button.clicked.connect(panel.propagate)
    panel.stop_button = QPushButton("Stop")
    panel.stop_button.setEnabled(False)
    panel.stop_button.clicked.connect(panel.stop_propagation)
    row.addWidget(panel.propagate_button)
    row.addWidget(panel.stop_button)
    layout.addLayout(row)
    panel.progress = QProgressBar()
    panel.progress.setRange(0, 100)
    panel.progress.setTextVisible(True)
    panel.progress.hide()
    layout.addWidget(panel.progress)

    layout.addWidget(QLabel("Segments (double-click to rename)"))
    panel.segment_list = SegmentList()
    panel.segment_list.setMaximumHeight(110)
    panel.segment_list.currentItemChanged.connect(lambda *_: panel._on_segment_selected())
    panel.segment_list.sig_renamed.connect(panel._on_segment_renamed)
    layout.addWidget(panel.segment_list)
    row = QHBoxLayout()
    for label, slot in (("Add", panel.add_segment), ("Remove", panel.remove_segment)):
        button = QPushButton(label)
        button.clicked.connect(slot)
        row.addWidget(button)
    layout.addLayout(row)

    panel.status_label = QLabel("")
    panel.status_label.setWordWrap(True)
    layout.addWidget(panel.status_label)
    panel.table = MeasurementTable()
    layout.addWidget(panel.table, 1)
    panel.report_label = QLabel("")
    panel.report_label.setWordWrap(True)
    panel.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(panel.report_label)

    row = QHBoxLayout()
    panel.accept_button = QPushButton("Accept")
    panel.reject_button = QPushButton("Reject")
    panel.accept_button.clicked.connect(lambda: panel.decide("accepted"))
    panel.reject_button.clicked.connect(lambda: panel.decide("rejected"))
    row.addWidget(panel.accept_button)
    row.addWidget(panel.reject_button)
    layout.addLayout(row)
    row = QHBoxLayout()
    for label, kind in (("Export NIfTI", "nifti"), ("Export DICOM-SEG", "dicom_seg")):
        button = QPushButton(label)
        button.clicked.connect(lambda _c=False, k=kind: panel.decisions.ask_export(k))
        row.addWidget(button)
    layout.addLayout(row)
    panel._refresh_buttons()
