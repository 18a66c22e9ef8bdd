"""A single click on a series previews it (middle slice and key facts) off the GUI thread; double-click opens it."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from medstation.config import sample_study_dir
from medstation.jobs import JobContext
from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _click(tab, series_uid: str) -> None:
    item = tab.browser.series_item(series_uid)
    tab.browser.scrollToItem(item)
    QTest.mouseClick(tab.browser.viewport(), LEFT, NO_MOD, tab.browser.visualItemRect(item).center())


def _wait_preview(tab, qtbot, series_uid: str) -> str:
    panel = tab.series_preview
    qtbot.waitUntil(lambda: panel.series_uid == series_uid and "Reading the middle slice" not in panel.facts.text(),
                    timeout=20000)
    return panel.facts.text()


def test_a_click_on_the_sample_series_shows_its_middle_slice_and_facts(viewer, qtbot):
    report = viewer.imaging.index_job(JobContext(), [sample_study_dir()])  # indexed, not opened (JPEG 2000 is slow)
    (uid,) = report.series_uids
    with qtbot.waitSignal(viewer.sig_catalog_changed, timeout=10000):
        viewer.refresh_catalog()
    info = next(s for p in viewer.imaging.patients() for st in p.studies for s in st.series if s.series_uid == uid)
    _click(viewer, uid)
    facts = _wait_preview(viewer, qtbot, uid)
    assert facts.startswith(f"CT · {info.n_instances} slice(s) from {info.n_instances} file(s)")
    assert f"{info.columns}×{info.rows} px" in facts and "Double-click (or Enter) opens it." in facts
    pixmap = viewer.series_preview.image.pixmap()
    assert pixmap is not None and not pixmap.isNull() and max(pixmap.width(), pixmap.height()) == 160
    assert "Preview failed" not in facts
    assert viewer.current_volume() is None  # a single click opens nothing


def test_a_series_that_fails_to_decode_says_so_and_a_click_opens_nothing(loaded, qtbot):
    opened_uid = loaded.current_volume().series_uid
    mr = next(s for p in loaded.imaging.patients() for st in p.studies for s in st.series if s.modality == "MR")
    for path in loaded.imaging.series_files(mr.series_uid):
        size = os.path.getsize(path)
        with open(path, "r+b") as fh:  # pixel data comes last: the header still reads, the pixels do not
            fh.truncate(size - 200)
    _click(loaded, mr.series_uid)
    facts = _wait_preview(loaded, qtbot, mr.series_uid)
    assert "Preview failed: the middle slice cannot be" in facts
    assert facts.startswith("MR · 3 slice(s) from 3 file(s)")
    assert loaded.series_preview.image.text() == "no preview"
    assert loaded.current_volume().series_uid == opened_uid  # a single click opens nothing
