"""Measurements persist: several per slice, listed with values, deletable, kept when scrolling, saved with the
series; ROI labels stay inside the view; the angle tool; the cursor readout follows scrolling."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.test_viewer_mouse import _drag, _widget_point
from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _texts(tab):
    return [a.describe() for a in tab.measurement_list.annotations()]


def test_several_measurements_listed_kept_when_scrolling_saved_and_deletable(loaded, qtbot):
    view = loaded.axial_view
    k = loaded.current_slice()
    loaded.set_tool("ruler")
    QApplication.processEvents()
    _drag(view.graphics_view.viewport(), _widget_point(view, 5.0, 10.0), _widget_point(view, 35.0, 10.0), LEFT)
    view.tool_drag((2.0, 3.0), (12.0, 3.0), LEFT, True, NO_MOD)  # a second ruler on the same slice
    loaded.set_tool("roi")
    view.tool_drag((0.0, 0.0), (4.0, 5.0), LEFT, True, NO_MOD)
    loaded.set_tool("angle")
    for point in ((10.0, 20.0), (20.0, 20.0), (20.0, 10.0)):
        view.tool_click(point, LEFT, NO_MOD)
    texts = _texts(loaded)
    assert len(texts) == 4 and texts[1] == f"Ruler · axial {k + 1} · 6.0 mm"
    assert texts[0].startswith("Ruler") and texts[2].startswith("ROI") and "HU" in texts[2]
    assert texts[3] == f"Angle · axial {k + 1} · 90.0°"  # 10 columns of 0.6 mm vs 10 rows of 0.8 mm: still 90
    assert view.annotation_count() == 4

    loaded.set_slice(k + 1)
    assert view.annotation_count() == 0 and len(_texts(loaded)) == 4  # other slice: none drawn, all listed
    loaded.set_slice(k)
    assert view.annotation_count() == 4  # back: all four again
    qtbot.waitUntil(lambda: all(a.id is not None for a in loaded.annotations), timeout=10000)

    uid = loaded.current_volume().series_uid
    other = next(u for u in _series_uids(loaded) if u != uid)
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=20000):
        loaded.open_series(other)
    qtbot.waitUntil(lambda: not loaded.runner.active("io"), timeout=10000)
    assert _texts(loaded) == []
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=20000):
        loaded.open_series(uid)
    qtbot.waitUntil(lambda: _texts(loaded) == texts, timeout=10000)  # saved with the series, read back

    loaded.measurement_list.list.setCurrentRow(1)
    loaded.measurement_list.delete_button.click()
    assert _texts(loaded) == [texts[0], texts[2], texts[3]] and view.annotation_count() == 3
    qtbot.waitUntil(lambda: not loaded.runner.active("io"), timeout=10000)
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=20000):
        loaded.open_series(uid)
    qtbot.waitUntil(lambda: len(_texts(loaded)) == 3, timeout=10000)


def _series_uids(tab):
    from medstation.ui.viewer.browser import SERIES_UID_ROLE

    out, it = [], tab.browser.topLevelItem
    for p in range(tab.browser.topLevelItemCount()):
        for s in range(it(p).childCount()):
            for k in range(it(p).child(s).childCount()):
                out.append(it(p).child(s).child(k).data(0, SERIES_UID_ROLE))
    return out


def test_roi_label_stays_inside_the_view(loaded):
    view = loaded.axial_view
    loaded.set_tool("roi")
    rows, cols = view.current_image().shape
    for box in ((0.0, 0.0, 6.0, 5.0), (cols - 6.0, rows - 5.0, cols, rows), (0.0, rows - 5.0, 6.0, rows)):
        view.tool_drag(box[:2], box[2:], LEFT, True, NO_MOD)
    QApplication.processEvents()
    viewport = view.graphics_view.viewport().rect()
    labels = [item for item in view._annotation_items if item.__class__.__name__ == "TextItem"]
    assert len(labels) == 3
    for label in labels:
        rect = view.graphics_view.mapFromScene(label.sceneBoundingRect()).boundingRect()
        assert viewport.contains(rect), (rect, viewport)


def test_cursor_readout_follows_scrolling_and_says_hu_only_for_ct(loaded, qtbot):
    view = loaded.axial_view
    vp = view.graphics_view.viewport()
    QTest.mouseMove(vp, _widget_point(view, 10.5, 12.5))
    QApplication.processEvents()
    first = loaded.readout.text()
    assert "HU" in first and f"voxel z{loaded.current_slice()} y12 x10" in first
    loaded.set_slice(loaded.current_slice() + 1)  # the mouse has not moved; the slice under it has
    assert f"voxel z{loaded.current_slice()} y12 x10" in loaded.readout.text() and loaded.readout.text() != first
    mr = next(u for u in _series_uids(loaded) if u != loaded.current_volume().series_uid)
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=20000):
        loaded.open_series(mr)
    assert loaded.readout.text() == ""  # a new series clears the stale readout
    QTest.mouseMove(vp, _widget_point(view, 3.5, 3.5) + QPoint(1, 0))
    QApplication.processEvents()
    assert "value" in loaded.readout.text() and "HU" not in loaded.readout.text()


def test_incomplete_series_and_skipped_files_are_reported(viewer, qtbot, tmp_path):
    from medstation.imaging.synthetic import SeriesSpec, write_series
    from medstation.imaging.preview import problems_summary

    paths = write_series(tmp_path / "s", SeriesSpec(n_slices=5))
    (tmp_path / "s" / "readme.txt").write_text("not an image")
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        viewer.open_paths(paths[:2] + [tmp_path / "s" / "readme.txt"])
    qtbot.waitUntil(lambda: "series opened incomplete: 3 more file(s)" in viewer.status.text(), timeout=10000)
    assert "indexing: 1 file(s) skipped" in viewer.status.text()  # still visible with the series open
    assert problems_summary([("a", "not DICOM: x"), ("b", "not DICOM: y"), ("c", "no pixel data")]) == (
        "3 file(s) skipped: 2 not DICOM, 1 no pixel data")


def test_a_single_click_on_a_series_says_how_to_open_it(loaded):
    from medstation.ui.viewer.browser import SERIES_UID_ROLE

    other = next(u for u in _series_uids(loaded) if u != loaded.current_volume().series_uid)
    item = loaded.browser.series_item(other)
    rect = loaded.browser.visualItemRect(item)
    QTest.mouseClick(loaded.browser.viewport(), LEFT, NO_MOD, rect.center())
    assert item.data(0, SERIES_UID_ROLE) == other
    assert "double-click (or press Enter) to open this series" in loaded.status.text()
    assert loaded.current_volume().series_uid != other  # a single click opens nothing
