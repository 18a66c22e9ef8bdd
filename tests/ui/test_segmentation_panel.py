"""The segmentation panel on a real SliceView: box → mask off the GUI thread, edits, accept, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

from medstation.access.roles import UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.segmentation.service import SegmentationService
from medstation.ui.runner import JobRunner
from medstation.ui.segmentation.panel import SegmentationPanel
from medstation.ui.viewer.slice_view import SliceView
from tests.seg_support import seed_onnx_cache, synthetic_volume


class ViewerStandIn(QWidget):
    """Just the viewer contract of docs/ARCHITECTURE.md, around a real axial SliceView."""

    sig_volume_loaded = Signal(object)
    sig_slice_changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.axial_view = SliceView("axial", self)
        self.axial_view.sig_slice_changed.connect(self.sig_slice_changed)
        self._volume = None

    def load(self, volume) -> None:
        self._volume = volume
        self.axial_view.set_volume(volume, window=volume.window)
        self.sig_volume_loaded.emit(volume)

    def current_volume(self):
        return self._volume

    def current_slice(self) -> int:
        return self.axial_view.index

    def set_slice(self, index: int) -> None:
        self.axial_view.set_index(index)

    def add_side_panel(self, widget, title) -> None:
        widget.setParent(self)


@pytest.fixture
def panel_setup(qtbot, settings, db):
    seed_onnx_cache(settings.cache_dir)
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    runner = JobRunner()
    viewer = ViewerStandIn()
    qtbot.addWidget(viewer)
    panel = SegmentationPanel(viewer, service, runner, session=UserSession.from_os_user(),
                              exports_dir=settings.exports_dir)
    qtbot.addWidget(panel)
    volume, truth = synthetic_volume(shape=(5, 96, 128), radii_mm=(4.0, 22.0, 30.0))
    viewer.load(volume)
    qtbot.waitUntil(lambda: service.engine() is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "ready" in panel.engine_label.text(), timeout=5000)
    yield viewer, panel, service, truth
    runner.shutdown(timeout_ms=60_000)


def test_box_gives_mask_while_gui_stays_responsive(qtbot, panel_setup):
    viewer, panel, _service, truth = panel_setup
    k = viewer.current_slice()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    panel.set_tool("seg_box")
    assert viewer.axial_view.tool == "seg_box" and panel.tool_buttons["seg_box"].isChecked()
    viewer.axial_view.sig_box_changed.emit(30.0, 20.0, 90.0, 70.0)  # dragging: live preview
    viewer.axial_view.sig_box_drawn.emit(30.0, 18.0, 98.0, 78.0)  # release
    qtbot.waitUntil(lambda: panel.segments.segments[panel.current_key].mask[k].any(), timeout=60_000)
    timer.stop()
    assert len(ticks) >= 5, "the GUI thread was blocked while the model ran"
    seg = panel.segments.segments[panel.current_key]
    inter = np.logical_and(seg.mask[k], truth[k]).sum()
    assert 2 * inter / (seg.mask[k].sum() + truth[k].sum()) > 0.8
    assert seg.ai_mask[k].any() and seg.prompts[-1]["box"] == [30.0, 18.0, 98.0, 78.0]
    assert f"seg{seg.key}" in viewer.axial_view.mask_keys()
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0, timeout=10_000)
    assert "[DRAFT] Segment 'Segment 1': volume" in panel.report_label.text()

    # brush and undo/redo from the buttons
    before = seg.mask[k].copy()
    panel.set_tool("seg_eraser")
    viewer.axial_view.sig_brush.emit(64.0, 48.0, 6.0, False)
    assert seg.mask[k].sum() < before.sum() and panel.undo_button.isEnabled()
    panel.undo_button.click()
    assert np.array_equal(seg.mask[k], before)
    panel.redo_button.click()
    assert seg.mask[k].sum() < before.sum()

    # accept: stored with both masks; the label shows the decision
    handle = panel.decide("accepted")
    with qtbot.waitSignal(handle.sig_done, timeout=20_000):
        pass
    assert seg.status == "accepted" and seg.stored_id is not None
    assert "[ACCEPTED]" in panel.report_label.text()


def test_box_drag_shows_live_masks_then_the_draft(qtbot, panel_setup):
    from medstation.ui.segmentation.panel import LIVE_KEY

    viewer, panel, _service, truth = panel_setup
    k = viewer.current_slice()
    panel.set_tool("seg_box")
    for i in range(8):  # the mouse moves; the GUI thread keeps running between events
        viewer.axial_view.sig_box_changed.emit(30.0, 20.0, 80.0 + 2 * i, 60.0 + 2 * i)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: LIVE_KEY in viewer.axial_view.mask_keys(), timeout=30_000)
    preview = viewer.axial_view._masks[LIVE_KEY].image  # RGBA overlay of the live mask
    assert preview[..., 3].any()  # a real mask, not an empty layer
    assert not panel.segments.segments[panel.current_key].mask[k].any()  # a preview is not a draft
    viewer.axial_view.sig_box_drawn.emit(30.0, 18.0, 98.0, 78.0)
    qtbot.waitUntil(lambda: panel.segments.segments[panel.current_key].mask[k].any(), timeout=30_000)
    assert LIVE_KEY not in viewer.axial_view.mask_keys()


def test_refused_box_is_explained_and_propagation_can_stop(qtbot, panel_setup, tmp_path):
    viewer, panel, _service, truth = panel_setup
    k = viewer.current_slice()
    panel.set_tool("seg_box")
    viewer.axial_view.sig_box_drawn.emit(300.0, 300.0, 400.0, 400.0)  # outside the 128 x 96 image
    qtbot.waitUntil(lambda: "outside" in panel.status_label.text(), timeout=60_000)
    assert not panel.segments.segments[panel.current_key].mask.any()

    panel.set_tool("seg_brush")
    viewer.axial_view.sig_brush.emit(64.0, 48.0, 15.0, False)  # a hand-drawn start mask
    handle = panel.propagate()
    assert handle is not None and panel.stop_button.isEnabled()
    panel.stop_propagation()
    with qtbot.waitSignal(handle.sig_finished, timeout=60_000):
        pass
    assert panel.propagate_button.isEnabled() and not panel.stop_button.isEnabled()

    export = panel.export_segments("nifti", str(tmp_path / "seg.nii.gz"))
    with qtbot.waitSignal(export.sig_done, timeout=20_000):
        pass
    assert (tmp_path / "seg.nii.gz").is_file()


def test_points_after_a_refused_box_and_points_alone_say_what_they_need(qtbot, panel_setup):
    viewer, panel, services, truth = panel_setup
    k = viewer.current_slice()
    panel.set_tool("seg_box")
    viewer.axial_view.sig_box_drawn.emit(300.0, 300.0, 400.0, 400.0)  # outside the image: refused
    qtbot.waitUntil(lambda: "box was dropped" in panel.status_label.text(), timeout=60_000)
    panel.set_tool("seg_point")
    viewer.axial_view.sig_point_clicked.emit(64.0, 48.0, True)  # the refused box is not reused
    assert "segments from a box" in panel.status_label.text() and "points are kept" in panel.status_label.text()
    assert viewer.axial_view.point_markers() == [(64.0, 48.0)]
    panel.set_tool("seg_box")
    viewer.axial_view.sig_box_drawn.emit(30.0, 18.0, 98.0, 78.0)  # the box, with the waiting point
    qtbot.waitUntil(lambda: panel.segments.segments[panel.current_key].mask[k].any(), timeout=60_000)
    seg = panel.segments.segments[panel.current_key]
    assert seg.mask[k, 48, 64] and seg.prompts[-1]["box"] == [30.0, 18.0, 98.0, 78.0]
    assert seg.prompts[-1]["points"] == [[64.0, 48.0, 1]]
    viewer.set_slice(k - 1)
    panel.set_tool("seg_point")
    viewer.axial_view.sig_point_clicked.emit(5.0, 5.0, False)  # an exclude point alone says nothing
    assert "left-click inside it" in panel.status_label.text()
