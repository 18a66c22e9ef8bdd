"""Viewer details from the clinic trial: orientation letters only with orientation, a 4D series not called
incomplete, "Custom" after a manual window/level change, and an audited screenshot.

Each test here fails on 1c99c71.
"""

from __future__ import annotations

import pydicom
from PySide6.QtCore import QPoint, Qt
from sqlmodel import select

from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.store.tables import AuditEvent
from tests.ui.test_viewer_mouse import _drag, _widget_point
from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)


def _open(qtbot, viewer, paths):
    """Open ``paths`` and wait until every job it started (the completeness check too) delivered its result."""
    handles, delivered = [], []

    def started(handle):
        handles.append(handle)
        handle.sig_finished.connect(lambda: delivered.append(handle))  # after sig_done reached its slots

    viewer.runner.sig_job_started.connect(started)
    try:
        with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
            viewer.open_paths(paths)
        assert any(h.name == "check series" for h in handles)
        qtbot.waitUntil(lambda: all(h in delivered for h in handles), timeout=20000)
    finally:
        viewer.runner.sig_job_started.disconnect(started)


def _letters(view) -> dict:
    text = view.overlay_text()
    return {k: text[k] for k in ("left", "right", "top", "bottom")}


def test_orientation_letters_only_on_images_that_have_an_orientation(qtbot, viewer, tmp_path):
    paths = write_series(tmp_path / "bare", SeriesSpec(n_slices=3, patient_id="P-BARE"))
    for path in paths:  # a secondary capture / scanned film: no patient geometry at all
        ds = pydicom.dcmread(path)
        del ds.ImageOrientationPatient
        del ds.ImagePositionPatient
        ds.save_as(path)
    _open(qtbot, viewer, [tmp_path / "bare"])
    assert set(_letters(viewer.axial_view).values()) == {""}
    write_series(tmp_path / "ct", SeriesSpec(n_slices=3, patient_id="P-CT"))
    _open(qtbot, viewer, [tmp_path / "ct"])
    assert _letters(viewer.axial_view) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}


def test_a_whole_4d_series_is_not_called_incomplete_but_a_partial_one_is(qtbot, viewer, tmp_path):
    write_series(tmp_path / "dyn", SeriesSpec(n_slices=4, time_points=3, patient_id="P-4D"))
    _open(qtbot, viewer, [tmp_path / "dyn"])
    status = viewer.status.text()
    assert "showing time point 1" in status and "incomplete" not in status
    files = sorted((tmp_path / "part").glob("*.dcm")) if (tmp_path / "part").exists() else \
        sorted(write_series(tmp_path / "part", SeriesSpec(n_slices=6, patient_id="P-PART")))
    _open(qtbot, viewer, files[:2])  # "Open files…" with two of six: that one is incomplete
    assert "WARNING: series opened incomplete: 4 more file(s)" in viewer.status.text()


def test_the_window_box_says_custom_after_a_manual_window_level_change(qtbot, loaded):
    combo = loaded.toolbar.presets
    assert combo.currentText() == "Default"
    view = loaded.axial_view
    start = _widget_point(view, 20.0, 16.0)
    _drag(view.graphics_view.viewport(), start, start + QPoint(60, 0), Qt.MouseButton.RightButton)
    assert combo.currentText() == "Custom"
    manual = view.window
    loaded.apply_preset("custom")  # choosing "Custom" keeps the manual window
    assert view.window == manual
    loaded.apply_preset("ct_lung")
    assert combo.currentText() == "Lung" and combo.currentData() == "ct_lung"
    assert view.window == (-600.0, 1500.0)


def test_the_screenshot_leaves_an_audit_event(qtbot, loaded, tmp_path):
    out = tmp_path / "shot.png"
    handle = loaded.export_screenshot(str(out))
    with qtbot.waitSignal(handle.sig_finished, timeout=10000):
        pass
    assert out.is_file() and out.stat().st_size > 0
    with loaded.imaging.db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "viewer.screenshot")).all()
    assert len(events) == 1
    assert events[0].entity_id == loaded._series_uid and events[0].detail["path"] == str(out) and events[0].actor


def test_a_preset_picked_while_the_next_series_loads_is_kept(loaded, qtbot):  # noqa: F811
    """The radiologist picks "Lung" while the next series is still loading: the new series must arrive in
    that window, not in its header's default (the choice used to be undone when the volume came)."""
    uid = loaded.current_volume().series_uid
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=10000):
        loaded.open_series(uid)
        loaded.apply_preset("ct_lung")  # the load job is still running: the old volume is on screen
    assert loaded.toolbar.preset_key() == "ct_lung"
    assert loaded.axial_view.window == (-600.0, 1500.0)
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=10000):
        loaded.open_series(uid)  # a load with no choice made during it opens in the header's window
    assert loaded.axial_view.window == (40.0, 400.0)
