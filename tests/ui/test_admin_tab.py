"""Admin tab: registry, runs and curves from the database; the A/B heatmap; the promotion gate's message."""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelComparison, TrainingRunStatus
from medstation.training import runs
from medstation.training.compare import ComparisonResult, DecisionRule, _summaries, decide, pair_by_case
from medstation.training.service import TrainingService
from medstation.ui.admin.tab import AdminTab
from medstation.ui.runner import JobRunner


@pytest.fixture
def tab(qtbot, db, settings):
    registry = ModelRegistry(db)
    (settings.home / "base.pth").write_bytes(b"base")
    (settings.home / "ft.pth").write_bytes(b"fine-tuned")
    base = registry.register("segmentation", "LiteMedSAM", settings.home / "base.pth", status="active")
    cand = registry.register("segmentation", "LiteMedSAM fine-tuned", settings.home / "ft.pth", parent_id=base.id,
                             metrics={"val_dice": 0.81})
    run = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=base.id,
                       params={"epochs": 2}, actor="admin")
    for record in ({"epoch": 0, "val_dice": 0.7, "val_iou": 0.6}, {"epoch": 1, "train_loss": 0.4, "val_dice": 0.78,
                   "val_iou": 0.66}, {"epoch": 2, "train_loss": 0.3, "val_dice": 0.81, "val_iou": 0.7}):
        runs.record_epoch(db, run.id, record)
    runs.finish(db, run.id, TrainingRunStatus.succeeded, model_version_id=cand.id)
    items_b = [{"case_key": f"{g}{i}", "group": g, "dice": 0.7, "nsd": 0.6} for g in ("CT", "MR") for i in range(4)]
    items_c = [{**it, "dice": it["dice"] + (0.02 if it["group"] == "CT" else -0.05)} for it in items_b]
    cases = pair_by_case(items_c, items_b, ("dice", "nsd"))
    overall, groups = _summaries(cases, ("dice", "nsd"))
    result = decide(ComparisonResult("segmentation", cand.id, base.id, "dice", overall, groups, cases), DecisionRule())
    with db.session() as s:
        s.add(ModelComparison(kind="segmentation", candidate_id=cand.id, baseline_id=base.id,
                              recommend_promote=result.recommend_promote, reason=result.reason, result=result.to_json()))
    service = TrainingService(settings, db, UserSession(Actor("ann", Role.admin)), registry)
    runner = JobRunner()
    widget = AdminTab(service, runner, service.session)
    qtbot.addWidget(widget)
    yield widget, cand
    runner.shutdown()


def test_dashboard_shows_registry_runs_curves_and_ab(qtbot, tab):
    widget, cand = tab
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    assert widget.registry_table.rowCount() == 2
    assert widget.registry_table.item(0, 0).text() == str(cand.id)
    assert widget.registry_table.item(0, 6).text() == "0.810"
    assert widget.runs_table.item(0, 1).text() == "succeeded"
    xs, ys = widget.curves.dice_curve.getData()
    assert list(xs) == [0, 1, 2] and list(ys) == [0.7, 0.78, 0.81]
    assert "MR drops by 0.050" in widget.verdict.text()
    assert len(widget.heatmap._labels) == 4  # 2 modalities x 2 metrics


def test_promote_refused_by_the_gate_says_why(qtbot, tab):
    widget, cand = tab
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.registry_table.selectRow(0)
    widget.promote_button.click()
    assert widget.status.text().startswith(f"The A/B result advises against #{cand.id}")
    assert widget.training.registry.get(cand.id).status.value == "candidate"
