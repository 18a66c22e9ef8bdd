"""Session 10's break-the-viewer findings in what the viewer shows (each failed on 7d7286b)."""

from __future__ import annotations

from medstation.imaging.synthetic import SeriesSpec, write_series
from tests.ui.test_data_loss_both_versions import _uid
from tests.ui.viewer_fixtures import viewer  # noqa: F401


def test_the_time_point_box_follows_the_series_on_screen(viewer, qtbot, tmp_path):
    """Time point 3 of one 4D series, then another 4D series: it opens at time point 1, and the box must say
    so. 7d7286b kept showing 3, and choosing 3 for the new series then did nothing (the value did not change)."""
    write_series(tmp_path / "d" / "a", SeriesSpec(n_slices=3, time_points=3, modality="MR"))
    write_series(tmp_path / "d" / "b", SeriesSpec(n_slices=3, time_points=3, patient_name="Roe^Rick", patient_id="P2"))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        viewer.open_paths([tmp_path / "d"])
    box = viewer.toolbar.time_point
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        box.setValue(3)
    assert viewer.current_volume().meta["time_point"] == 2
    other = _uid(viewer, "MR" if viewer.current_volume().modality == "CT" else "CT")
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        viewer.open_series(other)
    assert viewer.current_volume().meta["time_point"] == 0
    assert box.value() == 1  # 7d7286b: 3
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        box.setValue(3)  # and choosing time point 3 of this series loads it
    assert viewer.current_volume().series_uid == other and viewer.current_volume().meta["time_point"] == 2


def _hold_loads(viewer, monkeypatch):
    """Series loads wait until the returned event is set (a big series still reading)."""
    import threading

    release = threading.Event()
    real = viewer.imaging.load_series_job

    def held(ctx, series_uid, **kwargs):
        while not release.wait(0.02):
            ctx.check()
        return real(ctx, series_uid, **kwargs)

    monkeypatch.setattr(viewer.imaging, "load_series_job", held)
    return release


def test_export_deidentified_while_another_series_loads_exports_the_series_on_screen(loaded, qtbot, tmp_path,
                                                                                     monkeypatch):
    """7d7286b exported the series being loaded (named by the last double-click), not the one on screen."""
    import pydicom

    shown = loaded.current_volume()
    other = _uid(loaded, "MR" if shown.modality == "CT" else "CT")
    release = _hold_loads(loaded, monkeypatch)
    loaded.open_series(other)  # still loading: the first series stays on screen
    handle = loaded.export_deidentified(str(tmp_path / "out"))  # clicked with the first series on screen
    with qtbot.waitSignals([handle.sig_done, loaded.sig_volume_loaded], timeout=20000):
        release.set()  # (the io lane runs the export after the load)
    written = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == shown.shape[0]
    assert {pydicom.dcmread(p, stop_before_pixels=True).Modality for p in written} == {shown.modality}


from tests.ui.viewer_fixtures import loaded  # noqa: E402,F401


def test_an_angle_with_an_arm_of_no_length_says_why_nothing_was_measured(loaded):
    """Three clicks where two coincide (a double-click on the vertex): 7d7286b wiped the drawing and said nothing."""
    from PySide6.QtCore import Qt

    view = loaded.axial_view
    loaded.set_tool("angle")
    for point in ((10.0, 20.0), (20.0, 20.0), (20.0, 20.0)):
        view.tool_click(point, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    assert loaded.annotations == []
    said = [item.toPlainText() for item in view._drawn if hasattr(item, "toPlainText")]
    assert any("no length" in text for text in said)


def test_the_time_point_box_while_another_series_loads_steps_the_series_on_screen(viewer, qtbot, tmp_path,
                                                                                   monkeypatch, non_blocking_message_boxes):
    """The box belongs to the 4D series on screen; 7d7286b sent the time point to the series still loading (a 3D
    one), which failed with 'time point 1 requested but the series has 1'."""
    write_series(tmp_path / "d" / "a", SeriesSpec(n_slices=3, time_points=3, modality="MR"))
    write_series(tmp_path / "d" / "b", SeriesSpec(n_slices=4, patient_name="Roe^Rick", patient_id="P2"))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        viewer.open_paths([tmp_path / "d"])
    four_d = _uid(viewer, "MR")
    if viewer.current_volume().series_uid != four_d:
        with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
            viewer.open_series(four_d)
    release = _hold_loads(viewer, monkeypatch)
    viewer.open_series(_uid(viewer, "CT"))  # still loading: the 4D series and its box stay on screen
    viewer.toolbar.time_point.setValue(2)
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        release.set()
    qtbot.waitUntil(lambda: not viewer.runner.active("io"), timeout=20000)
    volume = viewer.current_volume()
    assert (volume.series_uid, volume.meta["time_point"]) == (four_d, 1)
    assert not [text for kind, text in non_blocking_message_boxes if kind == "critical"]
