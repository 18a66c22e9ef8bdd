"""The training services' settings: training defaults and the promotion gate's rules, read once from
:class:`~medstation.config.Settings` (no per-call ``getattr`` defaults: a missing setting is a wiring error)."""

from __future__ import annotations

from dataclasses import dataclass

from medstation.config import Settings
from medstation.store.tables import ModelKind
from medstation.training.comparison.ab import DecisionRule


@dataclass(frozen=True)
class TrainingSettings:
    """Defaults for training and the promotion gate (copied from :class:`~medstation.config.Settings`)."""

    seg_epochs: int = 6
    seg_mode: str = "decoder"
    nsd_tolerance_mm: float = 2.0
    rule: DecisionRule = DecisionRule()
    notes_rule: DecisionRule = DecisionRule(primary="rougeL")
    golden_dataset: str = "golden-segmentation"
    golden_notes_dataset: str = "golden-notes"

    @classmethod
    def from_settings(cls, settings: Settings) -> "TrainingSettings":
        gate = {"max_group_drop": settings.ab_max_modality_drop, "golden_margin": settings.ab_golden_margin,
                "min_group_cases": settings.ab_min_cases_per_group, "alpha": settings.ab_alpha}
        return cls(seg_epochs=settings.train_seg_epochs, rule=DecisionRule(**gate),
                   notes_rule=DecisionRule(primary="rougeL", **gate))

    def rule_for(self, kind: ModelKind | str) -> DecisionRule:
        """The decision rule A/B comparisons of ``kind`` are judged by (notes: ROUGE-L; else Dice)."""
        return self.notes_rule if ModelKind(kind) == ModelKind.llm else self.rule

    def golden_name(self, kind: ModelKind | str) -> str:
        """The dataset whose newest snapshot is the golden set of ``kind`` (never trained on)."""
        return self.golden_notes_dataset if ModelKind(kind) == ModelKind.llm else self.golden_dataset
