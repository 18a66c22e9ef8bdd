"""Viewer tab with real services: browser, scrolling, window/level, MPR, tags, overlay, exports."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medstation.imaging.synthetic import expected_slice
from tests.ui.viewer_fixtures import SPEC, loaded, viewer  # noqa: F401  (fixtures)


def test_browser_lists_patients_studies_series_and_opens_largest(loaded):
    tree = loaded.browser
    assert tree.topLevelItemCount() == 2
    names = sorted(tree.topLevelItem(i).text(0) for i in range(2))
    assert names[0].startswith("Doe Jane") and names[1].startswith("Roe Rick")
    vol = loaded.current_volume()
    assert vol.shape == (6, 32, 40) and vol.modality == "CT"
    item = tree.series_item(vol.series_uid)
    assert item.text(1) == "CT" and item.text(3) == "6" and "Synthetic phantom" in item.text(0)
    assert item.parent().text(2) == "2024-01-02"


def test_open_other_series_from_browser(loaded, qtbot):
    mr_uid = [s for s in (loaded.browser.topLevelItem(i).child(0).child(0) for i in range(2)) if s.text(1) == "MR"][0]
    with qtbot.waitSignal(loaded.sig_volume_loaded, timeout=10000) as blocker:
        loaded.browser.itemActivated.emit(mr_uid, 0)
    assert blocker.args[0].modality == "MR" and blocker.args[0].shape[0] == 3


def test_scrolling_by_slider_keys_and_wheel_direction(loaded, qtbot):
    view = loaded.axial_view
    with qtbot.waitSignal(loaded.sig_slice_changed, timeout=1000) as blocker:
        loaded.slider.setValue(1)
    assert blocker.args == [1] and loaded.current_slice() == 1
    np.testing.assert_allclose(view.current_image(), expected_slice(SPEC, 1))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert loaded.current_slice() == 2 and loaded.slider.value() == 2
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert loaded.current_slice() == 5
    loaded.set_slice(99)  # clamped
    assert loaded.current_slice() == 5


def test_window_presets_and_right_drag_window_level(loaded):
    view = loaded.axial_view
    assert view.window == (40.0, 400.0)  # from the headers
    loaded.apply_preset("ct_lung")
    assert tuple(view.image_item.levels) == pytest.approx((-1350.0, 150.0))
    assert loaded.coronal_view.window == (-600.0, 1500.0)  # all planes follow
    view.drag_window(100, 0, view.window)
    assert view.window[1] > 1500.0 and view.window[0] == pytest.approx(-600.0)
    loaded.apply_preset("auto")
    lo, hi = np.percentile(loaded.current_volume().pixels, [1, 99])
    assert view.window == pytest.approx(((lo + hi) / 2, hi - lo), rel=1e-3)


def test_mpr_planes_have_true_aspect_and_linked_crosshair(loaded, qtbot):
    loaded.set_mpr(True)
    coronal, sagittal = loaded.coronal_view, loaded.sagittal_view
    assert coronal.isVisible() and sagittal.isVisible()
    assert coronal.current_image().shape == (6, 40) and sagittal.current_image().shape == (6, 32)
    rect = coronal.image_item.mapRectToParent(coronal.image_item.boundingRect())
    assert (rect.width(), rect.height()) == pytest.approx((40 * 0.6, 6 * 2.5))
    # A click in the coronal plane moves the axial plane to that height and the sagittal to that column.
    coronal.tool_click((30.9, 4.8), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    assert loaded.current_slice() == 4 and sagittal.index == 30
    np.testing.assert_allclose(sagittal.current_image(), loaded.current_volume().pixels[:, :, 30])


def test_ruler_and_roi_in_mm(loaded):
    view = loaded.axial_view
    loaded.set_tool("ruler")
    assert view.tool == "ruler" and loaded.toolbar.tool_actions["ruler"].isChecked()
    view.tool_drag((2.0, 3.0), (12.0, 3.0), Qt.MouseButton.LeftButton, True, Qt.KeyboardModifier.NoModifier)
    assert view.last_measurement["mm"] == pytest.approx(10 * 0.6)
    view.tool_drag((2.0, 3.0), (8.0, 11.0), Qt.MouseButton.LeftButton, True, Qt.KeyboardModifier.NoModifier)
    assert view.last_measurement["mm"] == pytest.approx(np.hypot(6 * 0.6, 8 * 0.8))
    assert "mm" in loaded.measure_label.text()
    loaded.set_tool("roi")
    view.tool_drag((0.0, 0.0), (4.0, 5.0), Qt.MouseButton.LeftButton, True, Qt.KeyboardModifier.NoModifier)
    stats = view.last_measurement["stats"]
    patch = expected_slice(SPEC, loaded.current_slice())[0:5, 0:4]
    assert stats.n_pixels == 20 and stats.area_mm2 == pytest.approx(20 * 0.48)
    assert stats.mean == pytest.approx(patch.mean()) and stats.sd == pytest.approx(patch.std(ddof=1))
    assert (stats.minimum, stats.maximum) == (patch.min(), patch.max())
    assert "HU" in loaded.measure_label.text()


def test_cursor_readout_gives_patient_mm_and_value(loaded):
    view = loaded.axial_view
    scene_pos = view.view_box.mapViewToScene(view.view_from_px(10.5, 20.5))
    view._on_scene_mouse_moved(scene_pos)
    vol = loaded.current_volume()
    x, y, z = vol.voxel_to_patient(loaded.current_slice(), 20, 10)
    assert f"X {x:.1f}" in loaded.readout.text() and f"Z {z:.1f}" in loaded.readout.text()
    assert f"{vol.pixels[loaded.current_slice(), 20, 10]:.0f} HU" in loaded.readout.text()


def test_tag_browser_and_overlay(loaded, qtbot):
    loaded.left_tabs.setCurrentWidget(loaded.tag_browser)
    qtbot.waitUntil(lambda: loaded.tag_browser.row_count() > 10, timeout=15000)
    assert loaded.tag_browser.path == loaded.current_volume().source_paths[loaded.current_slice()]
    names = [loaded.tag_browser.tree.topLevelItem(i).text(1) for i in range(loaded.tag_browser.row_count())]
    assert "Patient's Name" in names
    corners = loaded.axial_view.overlay_text()
    assert "Doe Jane" in corners["tl"] and "W 400  L 40" in corners["bl"]
    loaded.toolbar.overlay.setChecked(False)
    assert all(not label.isVisible() for label in loaded.axial_view._corners.values())


def test_screenshot_and_deidentified_export_run_as_jobs(loaded, qtbot, tmp_path):
    handle = loaded.export_screenshot(str(tmp_path / "shot.png"))
    with qtbot.waitSignal(handle.sig_done, timeout=15000):
        pass
    assert (tmp_path / "shot.png").read_bytes()[:4] == b"\x89PNG"
    handle = loaded.export_deidentified(str(tmp_path / "deid"))
    with qtbot.waitSignal(handle.sig_done, timeout=10000) as blocker:
        pass
    assert len(blocker.args[0].files) == 6 and "De-identified 6" in loaded.status.text()
    from sqlmodel import select

    from medstation.store.tables import AuditEvent

    with loaded.imaging.db.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "imaging.export_deidentified")).one()
    assert event.actor == loaded.session.actor.name  # the acting user from the session, not getpass in a widget


def test_cine_advances_slices(loaded, qtbot):
    start = loaded.current_slice()
    loaded.toolbar.cine.setChecked(True)
    qtbot.waitUntil(lambda: loaded.current_slice() != start, timeout=2000)
    loaded.toolbar.cine.setChecked(False)


def test_orientation_letters_follow_the_geometry(loaded):
    loaded.set_mpr(True)
    axial, coronal, sagittal = (loaded.views[p].overlay_text() for p in ("axial", "coronal", "sagittal"))
    # Identity orientation (LPS): columns run to patient left, rows to posterior, slices to superior.
    assert (axial["left"], axial["right"], axial["top"], axial["bottom"]) == ("R", "L", "A", "P")
    assert (coronal["left"], coronal["right"], coronal["top"], coronal["bottom"]) == ("R", "L", "S", "I")
    assert (sagittal["left"], sagittal["right"], sagittal["top"], sagittal["bottom"]) == ("A", "P", "S", "I")
