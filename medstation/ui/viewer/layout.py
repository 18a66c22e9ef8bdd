"""The viewer tab's widgets, built in one place so the tab module holds only behaviour.

Left: series browser (with a preview of the clicked series), tags and measurements; centre: the axial view
beside the coronal and sagittal ones (shown in MPR mode), the slice slider and the readout/status lines;
right: side panels (segmentation), hidden until one is added.

Layout rules (a long message once widened the window past the screen and a splitter drag hid the
image for good): the status, readout and measurement lines are :class:`StatusLine` s (wrap, then
elide; their minimum width is fixed, not the text's); the image column cannot be collapsed by
the splitter and keeps ``MIN_VIEW_WIDTH`` x ``MIN_VIEW_HEIGHT`` px.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QSlider, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from medstation.ui.viewer.browser import SeriesBrowser
from medstation.ui.viewer.measurements import MeasurementList
from medstation.ui.viewer.series_preview import SeriesPreviewPanel
from medstation.ui.viewer.slice_view import SliceView
from medstation.ui.viewer.status_line import StatusLine, let_labels_shrink
from medstation.ui.viewer.tag_browser import TagBrowser
from medstation.ui.viewer.toolbar import ViewerToolbar

MIN_VIEW_WIDTH = 360  # px of the image column that no splitter drag takes away
MIN_VIEW_HEIGHT = 300


def build_viewer_layout(tab) -> None:
    """Create the tab's widgets as attributes of ``tab`` and lay them out (signals are connected by the tab)."""
    tab.toolbar = ViewerToolbar(tab)
    tab.browser = SeriesBrowser()
    tab.tag_browser = TagBrowser()
    tab.left_tabs = QTabWidget()
    tab.series_preview = SeriesPreviewPanel()
    series_page = QWidget()
    series_layout = QVBoxLayout(series_page)
    series_layout.setContentsMargins(0, 0, 0, 0)
    series_layout.addWidget(tab.browser, 1)
    series_layout.addWidget(tab.series_preview)
    tab.left_tabs.addTab(series_page, "Series")
    tab.left_tabs.addTab(tab.tag_browser, "Tags")
    tab.measurement_list = MeasurementList()
    tab.left_tabs.addTab(tab.measurement_list, "Measurements")

    tab.axial_view = SliceView("axial")
    tab.coronal_view = SliceView("coronal")
    tab.sagittal_view = SliceView("sagittal")
    tab.views = {"axial": tab.axial_view, "coronal": tab.coronal_view, "sagittal": tab.sagittal_view}
    tab.slider = QSlider(Qt.Orientation.Horizontal)
    tab.slider.setEnabled(False)
    tab.slice_label = StatusLine("No series loaded", max_lines=1)
    tab.slice_label.setFixedWidth(190)  # "Loading… (slice 120/300)": a fixed width, whatever the text
    tab.readout = StatusLine(max_lines=1)
    tab.measure_label = StatusLine(max_lines=1)
    tab.status = StatusLine(max_lines=2)
    tab.status.setObjectName("viewer_status")

    tab.view_area = QWidget()
    tab.view_area.setMinimumSize(MIN_VIEW_WIDTH, MIN_VIEW_HEIGHT)
    grid = QGridLayout(tab.view_area)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setSpacing(2)
    grid.addWidget(tab.axial_view, 0, 0, 2, 1)
    grid.addWidget(tab.coronal_view, 0, 1)
    grid.addWidget(tab.sagittal_view, 1, 1)
    tab._grid = grid
    center = QWidget()
    c_layout = QVBoxLayout(center)
    c_layout.setContentsMargins(0, 0, 0, 0)
    c_layout.addWidget(tab.view_area, 1)
    slider_row = QHBoxLayout()
    slider_row.addWidget(tab.slice_label)
    slider_row.addWidget(tab.slider, 1)
    c_layout.addLayout(slider_row)
    c_layout.addWidget(tab.readout)
    c_layout.addWidget(tab.measure_label)
    c_layout.addWidget(tab.status)

    tab.side_tabs = QTabWidget()
    tab.side_tabs.hide()
    splitter = QSplitter()
    splitter.addWidget(tab.left_tabs)
    splitter.addWidget(center)
    splitter.addWidget(tab.side_tabs)
    splitter.setStretchFactor(1, 1)
    splitter.setCollapsible(1, False)  # the image view: a drag can narrow it, never hide it
    splitter.setSizes([330, 1000, 320])
    tab.splitter = splitter
    let_labels_shrink(tab.left_tabs)
    layout = QVBoxLayout(tab)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(tab.toolbar)
    layout.addWidget(splitter, 1)
