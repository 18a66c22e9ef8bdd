"""Prompts belong to a slice and travel with undo/redo: an undone click is gone from the screen and from
the next try, and a slice never shows another slice's clicks (both failed on 1c99c71)."""

from __future__ import annotations

import numpy as np

from tests.ui.test_segmentation_panel import panel_setup  # noqa: F401  (the fixture)


def _wait_prompts(qtbot, seg, n):
    qtbot.waitUntil(lambda: len(seg.prompts) >= n, timeout=60_000)


def test_undo_restores_the_prompt_with_the_mask_and_clicks_stay_on_their_slice(qtbot, panel_setup):  # noqa: F811
    viewer, panel, _service, _truth = panel_setup
    view = viewer.axial_view
    k = viewer.current_slice()
    panel.set_tool("seg_box")
    view.sig_box_drawn.emit(30.0, 18.0, 98.0, 78.0)
    seg = panel.segments.segments[panel.current_key]
    _wait_prompts(qtbot, seg, 1)
    box_mask = seg.mask[k].copy()
    assert box_mask.any()

    panel.set_tool("seg_point")
    view.sig_point_clicked.emit(20.0, 10.0, True)  # an include click on the background, outside the box
    _wait_prompts(qtbot, seg, 2)
    assert view.point_markers() == [(20.0, 10.0)]
    assert panel.undo_button.isEnabled()

    panel.undo_button.click()
    assert np.array_equal(seg.mask[k], box_mask)
    assert view.point_markers() == []  # the undone click is not drawn...
    view.sig_point_clicked.emit(64.0, 48.0, False)
    _wait_prompts(qtbot, seg, 3)
    assert seg.prompts[-1]["points"] == [[64.0, 48.0, 0]]  # ...nor used by the next try
    assert seg.prompts[-1]["box"] == [30.0, 18.0, 98.0, 78.0] and seg.prompts[-1]["refinement"]

    viewer.set_slice(k - 1)  # another slice: none of slice k's clicks
    assert view.point_markers() == []
    viewer.set_slice(k)
    assert view.point_markers() == [(64.0, 48.0)]

    panel.undo_button.click()
    assert view.point_markers() == [] and np.array_equal(seg.mask[k], box_mask)
    panel.redo_button.click()
    assert view.point_markers() == [(64.0, 48.0)]
    panel.undo_button.click()
    panel.undo_button.click()  # the box itself: no mask, no prompt
    assert not seg.mask[k].any() and view.point_markers() == []
