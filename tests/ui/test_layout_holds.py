"""The layout holds: long messages wrap and elide, the window stays within 1280x800 and the screen,
Accept and Export stay inside the window, and no splitter drag hides the image view.

``test_accept_and_export_stay_visible_at_1280x800_after_the_longest_messages`` fails on 1c99c71
(the window grew to fit one status line, pushing past 1280 px).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QPushButton


PATH = "/".join(["clinic_share", "radiology_archive_2026", "PATIENT_WITHOUT_ANY_SPACES_IN_ITS_FOLDER_NAME"] * 6)
LONG = ("Loaded 311 slices 512×512 — 4D series: 40 positions × 8 time points; showing time point 1; non-uniform "
        "slice spacing (0.62–5.00 mm; a gap?); volume uses 1.25 mm; indexing: 1532 file(s) skipped: 1200 not "
        "DICOM, 300 no pixel data, 32 other (hover for the list) — WARNING: series opened incomplete: 77 more "
        f"file(s) of it in {PATH}/ were not opened (Open folder loads them all)")


@pytest.fixture
def window(main_window_on):
    # the screen was 1,600 px wide; the offscreen platform's is 800, so the test says which screen it means
    return main_window_on(1600, 1000)


def _inside(window, widget) -> bool:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return widget.isVisible() and window.rect().contains(rect)


def _say_the_longest_things(window) -> None:
    viewer, panel = window.viewer_tab, window.segmentation_panel
    viewer.status.setText(LONG)
    viewer.readout.setText(f"X -123.4  Y 456.7  Z 1234.5 mm (patient, LPS)   value 1234 HU   voxel z310 y511 x511 {PATH}")
    viewer.measure_label.setText("Ruler 123.45 mm " + PATH)
    viewer.slice_label.setText("Loading… (first image read) " + PATH)
    for name in ("status_label", "report_label", "engine_label"):
        getattr(panel, name).setText(f"Saved {PATH}/segmentation_export_with_a_long_name.nii.gz " + LONG)


def test_accept_and_export_stay_visible_at_1280x800_after_the_longest_messages(qtbot, window):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    _say_the_longest_things(window)
    qtbot.wait(300)  # let the layouts settle
    assert window.width() <= 1280 and window.height() <= 800
    panel = window.segmentation_panel
    exports = [b for b in panel.findChildren(QPushButton) if b.text().startswith("Export")]
    assert len(exports) == 2
    for button in [panel.accept_button, *exports]:
        assert _inside(window, button), f"{button.text()} is outside the 1280x800 window"


def test_the_window_never_exceeds_the_screen_and_the_splitter_keeps_the_image(qtbot, window):
    from medstation.ui.viewer.layout import MIN_VIEW_WIDTH

    window.show()
    window.resize(2600, 1400)
    _say_the_longest_things(window)
    qtbot.wait(200)
    assert window.width() <= 1600 and window.height() <= 1000
    splitter = window.viewer_tab.splitter
    splitter.setSizes([5000, 0, 0])  # a drag all the way to the right
    qtbot.wait(50)
    assert splitter.sizes()[1] >= MIN_VIEW_WIDTH and window.viewer_tab.view_area.width() >= MIN_VIEW_WIDTH
    assert not splitter.isCollapsible(1)


def test_status_line_wraps_then_elides_and_its_minimum_width_ignores_the_text(qtbot):
    from medstation.ui.viewer.status_line import MIN_WIDTH_PX, StatusLine

    line = StatusLine(max_lines=2)
    qtbot.addWidget(line)
    empty_hint = line.minimumSizeHint()
    line.setText(LONG)
    assert line.minimumSizeHint() == empty_hint and empty_hint.width() == MIN_WIDTH_PX
    line.show()
    line.resize(300, line.height())
    qtbot.wait(10)
    shown = line.shown_text().split("\n")
    metrics = QFontMetrics(line.font())
    assert len(shown) == 2 and shown[-1].endswith("…")
    assert all(metrics.horizontalAdvance(s) <= 300 for s in shown)
    assert line.text() == LONG and line.toolTip() == LONG  # nothing is lost: the full text is one hover away
    line.setToolTip("a.dcm: not DICOM")  # a caller's tooltip (the skipped files) stays, under the full text
    assert line.toolTip() == LONG + "\n\na.dcm: not DICOM"
    line.setToolTip("")
    line.setText("Saved.")
    assert line.shown_text() == "Saved." and line.toolTip() == ""


def test_long_admin_messages_keep_the_window_at_1280x800(qtbot, window):
    window.resize(1280, 800)
    window.show()
    window.select_tab("admin")
    tab = window.admin_tab
    for label in (tab.alerts, tab.status, tab.verdict, tab.ledger, tab.schedule_label):
        label.setText(LONG)
    qtbot.wait(300)
    assert window.width() <= 1280 and window.height() <= 800
    assert _inside(window, tab.train_button) and _inside(window, tab.force_button)
