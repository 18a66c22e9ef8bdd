"""Admin tab: registry, runs and curves from the database; the A/B heatmap; the promotion gate's message."""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelComparison, TrainingRunStatus
from medstation.training import runs
from medstation.training.comparison.ab import ComparisonResult, DecisionRule, _summaries, decide, pair_by_case
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
    result = decide(ComparisonResult("segmentation", cand.id, base.id, "dice", overall, groups, cases,
                                     context={"golden": "none", "candidate_sha256": cand.sha256}), DecisionRule())
    with db.session() as s:
        s.add(ModelComparison(kind="segmentation", candidate_id=cand.id, baseline_id=base.id,
                              recommend_promote=result.recommend_promote, reason=result.reason, result=result.to_json()))
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
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
    handle = widget.decisions.promote()
    assert handle.lane == "io"  # a registry write never runs on the GUI thread
    with qtbot.waitSignal(handle.sig_finished, timeout=10000):
        pass
    assert widget.status.text().startswith(f"#{cand.id} cannot be promoted without force: comparison #1 advises "
                                           "against it")
    assert "MR drops by 0.050" in widget.status.text()
    assert widget.training.registry.get(cand.id).status.value == "candidate"


def test_the_gate_verdict_and_held_out_warnings_are_shown_in_plain_words(qtbot, tab):
    """Selecting a candidate says why it may not be promoted; a dataset that holds out no MR case says so."""
    import numpy as np

    from medstation.jobs import JobContext
    from medstation.training.datasets import build_snapshot
    from medstation.training.datasets.items import SegItem
    from medstation.training.datasets.splits import public_case_key

    widget, cand = tab
    rng = np.random.default_rng(0)
    items = []
    for i, modality in enumerate(["CT"] * 30 + ["MR"] * 2):
        mask = np.zeros((24, 24), bool)
        mask[2 + i % 7:14 + i % 7, 3:15] = True
        items.append(SegItem(public_case_key(f"{modality}/{i}"), "t", modality, "x", rng.random((24, 24)), mask))
    build_snapshot(JobContext(), widget.training.db, widget.training.settings.home, name="mixed",
                   kind="segmentation", origin="t", items=items)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.registry_table.selectRow(0)
    text = widget.gate_label.toPlainText()
    assert text.startswith(f"✗ #{cand.id} cannot be promoted without force:\n• comparison #1 advises against it")
    assert "\n• CT: only 4 held-out cases; at least 20 per modality are needed to judge it" in text
    assert "Wilcoxon signed-rank p =" in text
    widget.registry_table.selectRow(1)
    assert widget.gate_label.toPlainText() == "#1 is active."
    assert "MR: 2 cases, none of them in the" in widget.split_warning.text()
    assert "the A/B cannot judge it" in widget.split_warning.text()


def test_compare_of_an_llm_candidate_runs_in_the_llm_lane_and_shows_rouge(qtbot, tab, monkeypatch):
    from medstation.jobs import JobContext
    from medstation.training.comparison.notes import DraftOutcome, compare_llm_versions

    widget, _ = tab
    registry = widget.training.registry
    settings = widget.training.settings
    (settings.home / "base.gguf").write_bytes(b"base")
    (settings.home / "lora.gguf").write_bytes(b"lora")
    base = registry.register("llm", "SmolLM2", settings.home / "base.gguf", status="active")
    lora = registry.register("llm", "LoRA adapter", settings.home / "lora.gguf", parent_id=base.id)
    rows = [{"case_key": f"c{i}", "template": "soap", "transcript": "x", "note": f"client slept badly night {i} plan diary"}
            for i in range(4)]

    def fake_compare(ctx, candidate_id):
        result = compare_llm_versions(JobContext(), lambda c, r: DraftOutcome(r["note"]),
                                      lambda c, r: DraftOutcome(" ".join(r["note"].split()[:3])), rows,
                                      candidate_id=candidate_id, baseline_id=base.id)
        return 99, result

    lanes = []
    real_submit = widget.runner.submit
    monkeypatch.setattr(widget.runner, "submit", lambda lane, *a, **k: lanes.append(lane) or real_submit(lane, *a, **k))
    monkeypatch.setattr(widget.training, "compare", fake_compare)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.registry_table.selectRow([v.id for v in widget._models].index(lora.id))
    widget.compare_button.click()
    qtbot.waitUntil(lambda: "ROUGE-L" in widget.verdict.text(), timeout=20000)
    assert "llm" in lanes and widget.verdict.text().startswith(f"#{lora.id} vs active #{base.id}: ROUGE-L 1.000")
    assert "per template" in widget.heatmap.plot.getPlotItem().titleLabel.text


def test_search_box_trains_through_the_search_job(qtbot, tab, monkeypatch):
    import numpy as np

    from medstation.jobs import JobContext
    from medstation.training.datasets import build_snapshot
    from medstation.training.datasets.items import SegItem

    widget, cand = tab
    mask = np.zeros((16, 16), bool)
    mask[3:9, 3:9] = True
    build_snapshot(JobContext(), widget.training.db, widget.training.settings.home, name="sq", kind="segmentation",
                   origin="t", items=[SegItem("a" * 16, "t", "CT", "sq", np.random.default_rng(0).random((16, 16)), mask)])
    calls = []

    def fake_search(ctx, dataset_version_id, *, epochs, mode):
        calls.append((dataset_version_id, epochs, mode))
        ctx.partial({"kind": "trial_start", "trial": 1, "trials": 2, "lr": 1e-4, "epochs": 2, "run_id": 5})
        trials = [{"index": 1, "lr": 1e-4, "epochs": 2, "status": "succeeded", "val_dice": 0.8},
                  {"index": 2, "lr": 3e-4, "epochs": 2, "status": "failed", "val_dice": None}]
        return {"model_version_id": cand.id, "search": {"trials": trials, "best": trials[0]}}

    monkeypatch.setattr(widget.training, "search_segmentation", fake_search)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.search_box.setChecked(True)
    widget.epochs_spin.setValue(2)
    widget.train_button.click()
    qtbot.waitUntil(lambda: "from the best of 2 trials" in widget.status.text(), timeout=20000)
    assert calls == [(widget.dataset_combo.currentData(), 2, "decoder")]
    assert widget.status.text() == (f"search registered candidate #{cand.id} from the best of 2 trials "
                                    "(lr 0.0001, 2 epochs, validation Dice 0.800; 1 failed)")
