"""One LoRA drafting-adapter run in the worker process: train on the plan's (transcript, signed note) pairs,
copy the adapter under the models folder (fsynced ``.partial``, renamed) and register it as a candidate."""

from __future__ import annotations

import os
from pathlib import Path

from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.store.model_registry import ModelRegistry, file_sha256
from medstation.store.objects import shared_model_path
from medstation.store.tables import ModelKind
from medstation.training import runs
from medstation.training.lora.train import train_lora
from medstation.training.runs.plan import RunPlan
from medstation.worker_protocol import emit_partial, emit_progress


def fsync_copy(source: Path, final_dir: Path, stem: str) -> tuple[Path, str]:
    """Copy ``source`` under ``final_dir`` as ``<stem>-<sha12><suffix>`` via a fsynced ``.partial``;
    returns (path, sha256)."""
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


def train(settings: Settings, db, registry: ModelRegistry, plan: RunPlan) -> dict:
    """LoRA drafting adapter on the train split's (transcript, signed note) pairs (:mod:`~.lora.train`)."""
    pairs = [(r["transcript"], r["note"]) for r in plan.train_rows]
    if not pairs:
        raise runs.RunError(f"{plan.dataset.label} has no training-split pairs")
    losses: list[float] = []

    def on_partial(data) -> None:
        if isinstance(data, dict) and data.get("kind") == "lora_step":
            losses.append(float(data["loss"]))
            emit_partial({"kind": "step", "epoch": int(data.get("epoch", 1)), "step": int(data["step"]),
                          "loss": float(data["loss"])})
        else:
            emit_partial(data)

    lora_ctx = JobContext(on_progress=lambda f, m: emit_progress(f, m), on_partial=on_partial)
    result = train_lora(lora_ctx, pairs, plan.run_dir / "adapter", **plan.hyperparameters)
    runs.record_epoch(db, plan.run_id, {"epoch": result.epochs, "train_loss": sum(losses) / max(1, len(losses))})
    path, sha = fsync_copy(Path(result.adapter_path), Path(settings.models_dir) / "finetuned", f"lora-run{plan.run_id}")
    path = shared_model_path(settings.shared_data_root, path, sha)  # clinic mode: every workstation fetches it
    model = registry.register(
        ModelKind.llm, f"LoRA drafting adapter (run {plan.run_id})", path, sha256=sha, parent_id=plan.base_model_id,
        dataset_version=plan.dataset.label, hyperparameters={**result.hyperparameters(), "run_id": plan.run_id},
        metrics=result.metrics(), source="fine-tuned",
        meta={"adapter": True, "base_model": result.base_gguf, "run_id": plan.run_id,
              "dataset_version_id": plan.dataset.id})
    return {"model_version_id": model.id, "metrics": result.metrics(), "note": result.stopped_early, "history": []}
