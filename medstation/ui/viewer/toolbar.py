"""The Viewer toolbar: actions and controls only; the tab connects them to its slots.

The window box names a preset only while that preset's window is on screen: a manual
window/level change (right drag) shows "Custom" (:meth:`ViewerToolbar.show_custom_window`).
The model line on the right says which segmentation model version is active.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QSpinBox, QToolBar, QWidget

from medstation.ui.viewer.status_line import StatusLine

CUSTOM_WINDOW = "custom"  # data of the "Custom" entry of the window box (not a preset key)


class ViewerToolbar(QToolBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Viewer", parent)
        self.setMovable(False)
        self.open_folder = self.addAction("Open folder…")
        self.open_files = self.addAction("Open files…")
        self.addSeparator()
        self.addWidget(QLabel(" Window "))
        self.presets = QComboBox()
        self.presets.setMinimumContentsLength(11)
        self.presets.setToolTip("Window presets (right-drag on the image to adjust)")
        self.addWidget(self.presets)
        self.addSeparator()
        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for name, text, tip in (
            ("navigate", "Navigate", "Pan (left drag), zoom (Ctrl+wheel), crosshair (click), scroll (wheel)"),
            ("ruler", "Ruler", "Distance in mm: drag across the image"),
            ("roi", "ROI", "Rectangle ROI statistics: drag a box"),
            ("angle", "Angle", "Angle in degrees: click an arm's end, the vertex, then the other arm's end"),
        ):
            self.add_tool_action(name, text, tip)
        self.tool_actions["navigate"].setChecked(True)
        self.addSeparator()
        self.fit = self.addAction("Fit")
        self.fit.setShortcut("F")
        self.fit.setToolTip("Fit the whole image in the view, undoing zoom and pan (F)")
        self.mpr = self.addAction("MPR")
        self.mpr.setCheckable(True)
        self.mpr.setToolTip("Axial, coronal and sagittal planes with a linked crosshair")
        self.cine = self.addAction("Cine ▶")
        self.cine.setCheckable(True)
        self.overlay = self.addAction("Overlay")
        self.overlay.setCheckable(True)
        self.overlay.setChecked(True)
        self.overlay.setToolTip("Show or hide patient/study text on the images")
        self.time_label = QLabel(" Time point ")
        self.time_point = QSpinBox()
        self.time_point.setMinimum(1)
        self.time_label_action = self.addWidget(self.time_label)
        self.time_point_action = self.addWidget(self.time_point)
        self.show_time_points(0)
        self.addSeparator()
        self.screenshot = self.addAction("Screenshot…")
        self.export = self.addAction("Export de-identified…")
        self.export.setToolTip("Copy the series with PHI removed (DICOM PS3.15 basic profile)")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.model_label = StatusLine("Segmentation model: …", max_lines=1)
        self.model_label.setObjectName("active_model")
        self.model_label.setFixedWidth(230)
        self.addWidget(self.model_label)

    def show_model(self, text: str) -> None:
        """The active segmentation model, e.g. "Segmentation model: #3 LiteMedSAM ft (active)"."""
        self.model_label.setText(text)

    def show_custom_window(self) -> None:
        """Select (adding it once) the "Custom" entry: the window on screen is no preset's."""
        index = self.presets.findData(CUSTOM_WINDOW)
        if index < 0:
            self.presets.addItem("Custom", CUSTOM_WINDOW)
            index = self.presets.count() - 1
        self.presets.setCurrentIndex(index)

    def preset_key(self) -> str:
        """The key of the preset named in the box ("custom" after a manual change)."""
        return str(self.presets.currentData() or "")

    def add_tool_action(self, name: str, text: str, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.setToolTip(tip)
        action.setData(name)
        self.tool_group.addAction(action)
        self.addAction(action) if not self.tool_actions else self.insertAction(self._after_tools(), action)
        self.tool_actions[name] = action
        return action

    def _after_tools(self) -> QAction | None:
        last = list(self.tool_actions.values())[-1]
        actions = self.actions()
        i = actions.index(last)
        return actions[i + 1] if i + 1 < len(actions) else None

    def show_time_points(self, count: int, shown: int = 0) -> None:
        """``count`` time points in the open series, ``shown`` (0-based) on screen: the box names that one
        (a value left from another series would be wrong, and choosing it again would change nothing)."""
        visible = count > 1
        self.time_label_action.setVisible(visible)
        self.time_point_action.setVisible(visible)
        if visible:
            self.time_point.blockSignals(True)
            self.time_point.setMaximum(count)
            self.time_point.setValue(min(count, int(shown) + 1))
            self.time_point.blockSignals(False)
