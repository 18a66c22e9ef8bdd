"""Admin tab, training view (issue 20.4): curves with the base model's line on the whole Dice scale, and a run
started from the command line followed live. Both fail on 1c99c71 (no reference line, auto-zoomed axes; a CLI
run showed "running, 0 epochs" and nothing else)."""

from __future__ import annotations

import os

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import TrainingRunStatus
from medstation.training import runs
from medstation.training.service import TrainingService
from medstation.ui.admin.plots import CurvesPlot
from medstation.ui.admin.tab import AdminTab
from medstation.ui.runner import JobRunner


def test_curves_show_the_base_model_line_and_do_not_zoom_on_small_changes(qtbot):
    plot = CurvesPlot()
    qtbot.addWidget(plot)
    plot.set_history({"val_dice": [(0, 0.812), (1, 0.799), (2, 0.805)], "train_loss": [(1, 0.42), (2, 0.40)]})
    assert plot.base_line.isVisible() and plot.base_line.value() == pytest.approx(0.812)
    loss_range, dice_range = plot.y_ranges()
    assert dice_range == (0.0, 1.0)  # a 0.013 drop stays a 0.013 drop on screen
    assert loss_range[0] == 0.0 and loss_range[1] >= 0.42
    plot.clear()
    assert not plot.base_line.isVisible()


@pytest.fixture
def tab(qtbot, db, settings):
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=ModelRegistry(db))
    runner = JobRunner()
    widget = AdminTab(service, runner, service.session)
    qtbot.addWidget(widget)
    yield widget
    runner.shutdown()


def test_a_run_started_from_the_command_line_shows_live(qtbot, tab, db, settings):
    run = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                       params={"epochs": 3}, actor="cli-user")
    runs.mark_running(db, run.id, os.getpid())  # what the worker does; this window never started it
    runs.record_epoch(db, run.id, {"epoch": 0, "val_dice": 0.81})
    writer = runs.ProgressWriter(db, run.id, interval_s=3600)
    writer(0.02, "reading images: 40 training and 8 validation rows")
    writer(0.30, "training: epoch 1/3 step 2/9 loss 0.512")  # a new phase is written at once
    writer(0.31, "training: epoch 1/3 step 3/9 loss 0.498")  # the same phase within the interval is not
    with qtbot.waitSignal(tab.refresh().sig_done, timeout=10000):
        pass
    assert tab.status.text() == (f"run #{run.id} (started by cli-user): training: epoch 1/3 step 2/9 loss 0.512 "
                                 "(30%)")
    assert tab._outside_poll.isActive() and tab.curves.base_line.value() == pytest.approx(0.81)
    runs.record_epoch(db, run.id, {"epoch": 1, "train_loss": 0.5, "val_dice": 0.83})
    runs.record_progress(db, run.id, 0.62, "training: epoch 2/3 step 1/9 loss 0.470")
    with qtbot.waitSignal(tab._outside_poll.timeout, timeout=10000):
        pass
    qtbot.waitUntil(lambda: "epoch 2/3" in tab.status.text(), timeout=10000)
    xs, ys = tab.curves.dice_curve.getData()
    assert list(xs) == [0, 1] and list(ys) == pytest.approx([0.81, 0.83])
    runs.finish(db, run.id, TrainingRunStatus.succeeded, outcome="no change: no epoch beat the base model")
    with qtbot.waitSignal(tab.refresh().sig_done, timeout=10000):
        pass
    assert not tab._outside_poll.isActive()
    assert tab.runs_table.item(0, 3).text() == "no change"
