"""Session 10's break-the-viewer findings around running segmentation jobs (each failed on 7d7286b).

* Undo while a propagation runs took back the slices so far, then the rest kept landing (and the undone
  ones could not be redone): "one Undo takes it all back" was not true mid-run.
* Drawing a box (or dragging one) while a propagation ran stopped the propagation without being asked.
* Drafts drawn on a series whose file count changed (a missing slice arrived) were on a set nobody kept:
  closing did not ask about them, and switching series and back lost them.
* Undo of removing an accepted segment brought it back 'rejected' (not the promised draft): closing did not ask
  and it never reloaded.
"""

from __future__ import annotations

import time

import numpy as np

from medstation.imaging.synthetic import write_series
from medstation.segmentation.engine import MaskPrediction
from tests.ui.test_data_loss_both_versions import BIG, _paint, _SlowSegmenter, _switch, _uid, window  # noqa: F401


def _square() -> np.ndarray:
    mask = np.zeros((BIG.rows, BIG.columns), bool)
    mask[14:30, 14:34] = True
    return mask


class _PromptingSegmenter(_SlowSegmenter):
    """The slow stand-in that also answers a box prompt (the box's pixels), as the real segmenter does."""

    def has_embedding(self, index):
        return True

    def embedding(self, index):
        return None

    def prompt(self, index, box=None, points=None, labels=None):
        mask = np.zeros((BIG.rows, BIG.columns), bool)
        x0, y0, x1, y1 = (int(v) for v in box)
        mask[y0:y1, x0:x1] = True
        return MaskPrediction(mask=mask, score=0.9, box=tuple(box), seconds=0.01)


def _start_propagation(tab, panel, monkeypatch, qtbot, segmenter):
    monkeypatch.setattr(panel, "_ready_segmenter", lambda: segmenter)
    tab.set_slice(2)
    _paint(tab, panel, x=22.0, y=20.0, r=6.0)
    seg = panel.segments.segments[panel.current_key]
    handle = panel.propagate()
    ended: list[bool] = []  # sig_finished reached the GUI thread (``handle.finished`` is set in the job's thread,
    handle.sig_finished.connect(lambda: ended.append(True))  # before its last slices are delivered here)
    qtbot.waitUntil(lambda: len(seg.slices_with_mask()) >= 2, timeout=20000)  # one slice propagated (0.4 s each)
    return seg, handle, ended


def test_undo_while_a_propagation_runs_takes_the_whole_propagation_back(window, qtbot, monkeypatch):
    _win, tab, panel, _runner = window
    seg, handle, ended = _start_propagation(tab, panel, monkeypatch, qtbot, _SlowSegmenter())
    panel.undo()
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert seg.slices_with_mask() == [2]  # 7d7286b: the slices propagated after the undo were there
    assert panel.status_label.text().startswith("Propagation stopped. Undid propagation")
    assert not panel.propagation_running() and panel.propagate_button.isEnabled()


def test_a_box_drawn_while_a_propagation_runs_does_not_stop_it(window, qtbot, monkeypatch):
    _win, tab, panel, _runner = window
    seg, handle, ended = _start_propagation(tab, panel, monkeypatch, qtbot, _PromptingSegmenter())
    panel.add_segment()  # a second structure, boxed while the first one propagates
    other = panel.segments.segments[panel.current_key]
    panel.set_tool("seg_box")
    tab.axial_view.sig_box_changed.emit(2.0, 2.0, 10.0, 9.0)  # the drag (live preview)
    tab.axial_view.sig_box_drawn.emit(2.0, 2.0, 12.0, 10.0)  # the release
    assert "propagation" in panel.status_label.text().lower()  # says why the box waits
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert not handle.cancelled
    assert seg.slices_with_mask() == list(range(BIG.n_slices))  # 7d7286b: stopped after a slice or two
    qtbot.waitUntil(lambda: other.mask[2].any(), timeout=20000)  # and the box was segmented after it


def test_drafts_on_a_series_that_gained_a_slice_are_kept_and_asked_about(window, qtbot, tmp_path):
    _win, tab, panel, runner = window
    ct = _uid(tab, "CT")
    _paint(tab, panel)  # a draft on the 6-slice series
    more = BIG.__class__(**{**BIG.__dict__, "n_slices": BIG.n_slices + 1})
    write_series(tmp_path / "later", more)  # (another series UID: only the count matters for the set)
    # The same series re-read with one slice more: copy the series with an extra file, as a late transfer does.
    import pydicom

    extra = sorted((tmp_path / "later").iterdir())[0]
    ds = pydicom.dcmread(extra)
    first = pydicom.dcmread(sorted((tmp_path / "data" / "ct").iterdir())[0])
    ds.SeriesInstanceUID, ds.StudyInstanceUID = first.SeriesInstanceUID, first.StudyInstanceUID
    ds.FrameOfReferenceUID = first.FrameOfReferenceUID
    pos = [float(v) for v in first.ImagePositionPatient]
    ds.ImagePositionPatient = [pos[0], pos[1], -200.0]  # beyond the other slices
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.Rows, ds.Columns = first.Rows, first.Columns
    ds.PixelSpacing = first.PixelSpacing
    ds.PixelData = first.PixelData
    ds.save_as(tmp_path / "data" / "ct" / "late.dcm")
    with qtbot.waitSignal(tab.sig_volume_loaded, timeout=20000):
        tab.open_paths([tmp_path / "data" / "ct"])
    qtbot.waitUntil(lambda: not runner.active("io"), timeout=10000)
    assert tab.current_volume().shape[0] == BIG.n_slices + 1 and tab.current_volume().series_uid == ct
    assert "kept aside" in panel.status_label.text()
    _paint(tab, panel, x=30.0, y=30.0)  # a draft on the 7-slice set
    assert len(panel.unsaved_work()) == 2  # 7d7286b: only the kept-aside draft was listed
    drawn = panel.segments.segments[panel.current_key].mask.copy()
    _switch(qtbot, tab, _uid(tab, "MR"))
    _switch(qtbot, tab, ct)
    kept = [s.mask for s in panel.segments.segments.values() if s.mask.any()]
    assert any(np.array_equal(k, drawn) for k in kept)  # 7d7286b: a fresh empty set again


def test_undoing_the_removal_of_an_accepted_segment_brings_it_back_as_a_draft(window, qtbot):
    """Removing a saved segment marks its record rejected and says 'Undo brings it back here as a draft'.
    7d7286b brought it back still 'rejected': closing did not ask, and it never reloaded again (lost)."""
    from medstation.segmentation.segments import SegmentStatus

    _win, tab, panel, runner = window
    _paint(tab, panel)
    with qtbot.waitSignal(panel.decide("accepted").sig_done, timeout=20000):
        pass
    seg = panel.segments.segments[panel.current_key]
    panel.remove_segment()  # asked (answered Yes by the test fixture); the record is marked rejected
    qtbot.waitUntil(lambda: not runner.active("io"), timeout=20000)
    panel.undo()
    assert seg.key in panel.segments.segments and seg.status == SegmentStatus.draft
    assert any("Segment 1" in item for item in panel.unsaved_work())


def test_undoing_a_removal_before_its_rejection_is_saved_still_gives_a_draft(window, qtbot):
    from medstation.segmentation.segments import SegmentStatus

    _win, tab, panel, runner = window
    _paint(tab, panel)
    with qtbot.waitSignal(panel.decide("accepted").sig_done, timeout=20000):
        pass
    seg = panel.segments.segments[panel.current_key]
    panel.remove_segment()
    panel.undo()  # before the io lane stored the rejection
    qtbot.waitUntil(lambda: not runner.active("io"), timeout=20000)
    qtbot.wait(50)
    assert seg.status == SegmentStatus.draft and any("Segment 1" in item for item in panel.unsaved_work())


def test_the_status_line_follows_the_series_on_screen_while_a_propagation_runs_elsewhere(window, qtbot, monkeypatch):
    """7d7286b kept the last series' sentence ('Mask on slice 11: 4751 px') under another series, and a propagation
    finishing there announced 'Propagated over 6 slices; review each slice' on the series that had none."""
    _win, tab, panel, _runner = window
    seg, handle, ended = _start_propagation(tab, panel, monkeypatch, qtbot, _PromptingSegmenter())
    panel.status_label.setText("Mask on slice 3: 320 px in 10 ms (DRAFT)")  # what a box on this series said
    _switch(qtbot, tab, _uid(tab, "MR"))
    assert "Mask on slice 3" not in panel.status_label.text()
    assert "previous series" in panel.status_label.text()
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    text = panel.status_label.text()
    assert "previous series" in text and not text.startswith("Propagated over")
    assert seg.slices_with_mask() == list(range(BIG.n_slices))  # the slices landed on their own series
