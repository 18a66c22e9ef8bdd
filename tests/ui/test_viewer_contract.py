"""The segmentation-facing contract of the viewer (docs/ARCHITECTURE.md) and start-up on the sample CT."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)

NO_MOD = Qt.KeyboardModifier.NoModifier


def test_external_tools_emit_prompt_signals(loaded, qtbot):
    view = loaded.axial_view
    view.register_tool("seg-box", "box")
    view.register_tool("seg-point", "point")
    view.register_tool("seg-brush", "brush")
    view.set_tool("seg-box")
    assert loaded.toolbar.tool_group.checkedAction() is None  # no viewer tool shown as active
    with qtbot.waitSignal(view.sig_box_changed, timeout=500) as changed:
        view.tool_drag((9.0, 8.0), (3.0, 2.0), Qt.MouseButton.LeftButton, False, NO_MOD)
    assert changed.args == [3.0, 2.0, 9.0, 8.0]
    with qtbot.waitSignal(view.sig_box_drawn, timeout=500) as drawn:
        view.tool_drag((9.0, 8.0), (3.0, 2.0), Qt.MouseButton.LeftButton, True, NO_MOD)
    assert drawn.args == [3.0, 2.0, 9.0, 8.0]
    view.set_tool("seg-point")
    with qtbot.waitSignal(view.sig_point_clicked, timeout=500) as point:
        view.tool_click((5.0, 6.0), Qt.MouseButton.RightButton, NO_MOD)
    assert point.args == [5.0, 6.0, False]
    view.set_tool("seg-brush")
    view.brush_radius_px = 3.0
    with qtbot.waitSignal(view.sig_brush, timeout=500) as brush:
        view.tool_click((5.0, 6.0), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)
    assert brush.args == [5.0, 6.0, 3.0, True]
    with pytest.raises(ValueError):
        view.set_tool("nonexistent")
    loaded.set_tool("ruler")
    assert view.tool == "ruler" and loaded.toolbar.tool_group.checkedAction().data() == "ruler"


def test_mask_overlay_is_shown_and_cleared(loaded):
    view = loaded.axial_view
    mask = np.zeros((32, 40), np.uint8)
    mask[5:10, 5:12] = 1
    view.set_mask_overlay("liver", mask, "#00ff00", 0.5)
    assert view.mask_keys() == ["liver"]
    item = view._masks["liver"]
    assert item.image.shape == (32, 40, 4) and item.image[7, 7, 1] == 255 and item.image[0, 0, 3] == 0
    view.set_mask_overlay("liver", None, "#00ff00", 0.5)
    assert view.mask_keys() == []


def test_main_window_mounts_the_segmentation_panel(qtbot, medstation_home):
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner
    from medstation.ui.segmentation.panel import SegmentationPanel

    services = build_services(Settings(sample_study=False))
    runner = JobRunner()
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    tab = window.viewer_tab
    assert tab.side_tabs.count() == 1 and tab.side_tabs.tabText(0) == "Segmentation"
    panel = tab.side_tabs.widget(0)
    assert isinstance(panel, SegmentationPanel) and panel.viewer is tab
    runner.shutdown()
    services.close()


def test_start_without_path_opens_sample_ct(qtbot, medstation_home):
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.runner import JobRunner
    from medstation.ui.viewer.tab import ViewerTab

    services = build_services(Settings(sample_study=True))
    runner = JobRunner()
    tab = ViewerTab(imaging=services.imaging, settings=services.settings, runner=runner, db=services.db,
                    session=services.session)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.sig_volume_loaded, timeout=30000) as blocker:
        tab.start(None)
    vol = blocker.args[0]
    assert vol.shape == (20, 512, 512) and vol.modality == "CT"
    assert tab.browser.topLevelItemCount() == 1 and tab.current_slice() == 10
    runner.shutdown()
    services.close()


def test_missing_folder_is_reported_not_crashing(viewer, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("medstation.ui.viewer.tab.show_error", lambda parent, title, message, details="": shown.append(message))
    (tmp_path / "empty").mkdir()
    viewer.open_paths([tmp_path / "empty"])
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "No DICOM images" in shown[0]


def test_4d_series_offers_time_points(viewer, qtbot, tmp_path):
    from medstation.imaging.synthetic import SeriesSpec, write_series

    write_series(tmp_path / "d4", SeriesSpec(n_slices=3, time_points=4, modality="MR"))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=10000) as first:
        viewer.open_paths([tmp_path / "d4"])
    assert first.args[0].meta["n_time_points"] == 4 and viewer.toolbar.time_point_action.isVisible()
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=10000) as third:
        viewer.toolbar.time_point.setValue(3)
    assert third.args[0].meta["time_point"] == 2
    np.testing.assert_allclose(third.args[0].pixels - first.args[0].pixels, 20.0)  # phantom adds 10 per time point
    assert "Time point 3/4" in viewer.axial_view.overlay_text()["br"]


def test_a_new_load_cancels_the_previous_one(loaded, qtbot, monkeypatch):
    import time

    uid = loaded.current_volume().series_uid
    real_load = loaded.imaging.load_series_job

    def slow_then_real(ctx, series_uid, **kwargs):
        for _ in range(200):  # a load that takes seconds unless cancelled
            ctx.check()
            time.sleep(0.01)
        return real_load(ctx, series_uid, **kwargs)

    monkeypatch.setattr(loaded.imaging, "load_series_job", slow_then_real)
    loaded.open_series(uid)
    first = loaded._load_handle
    monkeypatch.setattr(loaded.imaging, "load_series_job", real_load)
    with qtbot.waitSignal(first.sig_cancelled, timeout=5000):
        with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=10000):
            loaded.open_series(uid)
    assert first.cancelled and loaded._load_handle is not first


def test_fast_jobs_never_lose_their_result(viewer, qtbot):
    """A job that finishes before the tab connects its slots must still deliver (see ViewerTab._submit)."""
    import time

    results = []
    for i in range(20):
        handle = viewer._submit(lambda ctx, v=i: v, name="fast", on_done=results.append)
        time.sleep(0.005)  # let the worker finish first, as a tiny header read does
        assert handle is not None
    qtbot.waitUntil(lambda: len(results) == 20, timeout=5000)
    assert results == list(range(20))
