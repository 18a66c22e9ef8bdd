"""The data-loss cases of issue 10, driven only through what the code before the fixes (372cec4) also had.

tests/ui/test_segments_kept.py checks the same cases in more detail, but through
names that commit lacks (``SegmentStatus``, ``confirm_close``, the panel's new
constructor), so on it that file stops at an ImportError. Here the window is built
as both versions build it (``MainWindow(services, runner)``), the panel is found
as a child widget, and only old names are used: ``set_tool``, the view's
``sig_brush``, ``open_series``, ``decide``, ``add_segment``, ``remove_segment``,
``undo``, ``propagate`` with ``_ready_segmenter`` replaced, and ``close()``.
Each test failed on 372cec4 for the data-loss behaviour itself (see the report in
the branch history) and passes now.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from medstation.imaging.synthetic import SeriesSpec, write_series

BIG = SeriesSpec(n_slices=6, rows=48, columns=64, pixel_spacing=(0.8, 0.6), slice_step=2.5)
SMALL = SeriesSpec(n_slices=4, rows=16, columns=20, modality="MR", patient_name="Roe^Rick", patient_id="P2")


@pytest.fixture
def window(qtbot, tmp_path, medstation_home, monkeypatch):
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner
    from medstation.ui.segmentation.panel import SegmentationPanel

    monkeypatch.setattr(SegmentationPanel, "ensure_engine", lambda self: None)  # the brush needs no model
    write_series(tmp_path / "data" / "ct", BIG)
    write_series(tmp_path / "data" / "mr", SMALL)
    services = build_services(Settings(sample_study=False))
    runner = JobRunner()
    win = MainWindow(services, runner)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    tab = win.viewer_tab
    with qtbot.waitSignal(tab.sig_volume_loaded, timeout=90000):  # the first open in a process imports a lot
        tab.open_paths([tmp_path / "data"])
    qtbot.waitUntil(lambda: not runner.active("io"), timeout=10000)
    yield win, tab, win.findChild(SegmentationPanel), runner
    runner.shutdown()
    services.close()


def _uid(tab, modality: str) -> str:
    from medstation.ui.viewer.browser import SERIES_UID_ROLE

    it = tab.browser.topLevelItem
    for p in range(tab.browser.topLevelItemCount()):
        for s in range(it(p).childCount()):
            for k in range(it(p).child(s).childCount()):
                item = it(p).child(s).child(k)
                if item.text(1) == modality:
                    return item.data(0, SERIES_UID_ROLE)
    raise AssertionError(modality)


def _paint(tab, panel, x=20.0, y=20.0, r=4.0):
    panel.set_tool("seg_brush")
    tab.axial_view.sig_brush.emit(x, y, r, False)
    tab.axial_view.sig_brush.emit(x + 8, y, r, False)


def _masks(panel) -> list[np.ndarray]:
    return [seg.mask.copy() for seg in panel.segments.segments.values() if seg.mask.any()]


def _switch(qtbot, tab, uid) -> None:
    with qtbot.waitSignal(tab.sig_volume_loaded, timeout=20000):
        tab.open_series(uid)


def _record_questions(monkeypatch, answer):
    asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_switching_series_and_back_keeps_the_drawn_segments(window, qtbot):
    _win, tab, panel, _runner = window
    _paint(tab, panel)
    panel.add_segment()
    _paint(tab, panel, x=40.0, y=30.0)
    drawn = _masks(panel)
    assert len(drawn) == 2
    _switch(qtbot, tab, _uid(tab, "MR"))
    _switch(qtbot, tab, _uid(tab, "CT"))
    kept = _masks(panel)
    assert len(kept) == 2 and all(any(np.array_equal(k, d) for k in kept) for d in drawn)


def test_an_accepted_segment_is_there_again_when_its_series_is_reopened(window, qtbot):
    _win, tab, panel, _runner = window
    _paint(tab, panel)
    with qtbot.waitSignal(panel.decide("accepted").sig_done, timeout=20000):
        pass
    [accepted] = _masks(panel)
    _switch(qtbot, tab, _uid(tab, "MR"))
    _switch(qtbot, tab, _uid(tab, "CT"))
    qtbot.waitUntil(lambda: any(np.array_equal(m, accepted) for m in _masks(panel)), timeout=10000)


def test_closing_the_window_with_a_draft_asks_and_no_keeps_it_open(window, qtbot, monkeypatch):
    win, tab, panel, _runner = window
    _paint(tab, panel)
    asked = _record_questions(monkeypatch, QMessageBox.StandardButton.No)
    win.close()
    assert asked and win.isVisible() and len(_masks(panel)) == 1


class _SlowSegmenter:
    """Stands in for the model during a propagation: the box's inner square on every slice, 0.4 s each."""

    n_slices = BIG.n_slices
    window = None

    def predict_mask(self, index, box):
        time.sleep(0.4)
        mask = np.zeros((BIG.rows, BIG.columns), bool)
        mask[14:30, 14:34] = True
        return mask

    def slice_image(self, index):
        return np.full((BIG.rows, BIG.columns), 0.5, np.float32)


def test_closing_while_a_propagation_runs_asks_and_no_lets_it_finish(window, qtbot, monkeypatch):
    win, tab, panel, _runner = window
    monkeypatch.setattr(panel, "_ready_segmenter", lambda: _SlowSegmenter())
    tab.set_slice(2)
    _paint(tab, panel, x=22.0, y=20.0, r=6.0)
    handle = panel.propagate()
    qtbot.wait(300)  # the job starts on the next event-loop turn; five slices take two seconds
    asked = _record_questions(monkeypatch, QMessageBox.StandardButton.No)
    win.close()
    assert asked and "propagation" in asked[-1] and win.isVisible()
    with qtbot.waitSignal(handle.sig_finished, timeout=20000):
        pass
    [seg] = [s for s in panel.segments.segments.values() if s.mask.any()]
    assert seg.slices_with_mask() == list(range(BIG.n_slices))  # "No" did not cancel it


def test_a_removed_segment_comes_back_with_undo(window, qtbot):
    _win, tab, panel, _runner = window
    _paint(tab, panel)
    panel.add_segment()
    _paint(tab, panel, x=40.0, y=30.0)
    removed = panel.segments.segments[panel.current_key].mask.copy()
    panel.remove_segment()
    assert not any(np.array_equal(m, removed) for m in _masks(panel))
    panel.undo()
    assert any(np.array_equal(m, removed) for m in _masks(panel))


def test_one_undo_takes_back_a_whole_propagation(window, qtbot, monkeypatch):
    _win, tab, panel, _runner = window
    fast = _SlowSegmenter()
    monkeypatch.setattr(_SlowSegmenter, "predict_mask", lambda self, index, box: _square())
    monkeypatch.setattr(panel, "_ready_segmenter", lambda: fast)
    tab.set_slice(2)
    _paint(tab, panel, x=22.0, y=20.0, r=6.0)
    with qtbot.waitSignal(panel.propagate().sig_finished, timeout=20000):
        pass
    seg = panel.segments.segments[panel.current_key]
    assert seg.slices_with_mask() == list(range(BIG.n_slices))
    panel.undo()
    assert seg.slices_with_mask() == [2]


def _square() -> np.ndarray:
    mask = np.zeros((BIG.rows, BIG.columns), bool)
    mask[14:30, 14:34] = True
    return mask
