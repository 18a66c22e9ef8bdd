"""Source-balanced fine-tuning: each source is drawn equally often, and the best epoch is chosen per source."""

from types import SimpleNamespace

import numpy as np
import pytest

from medstation.training.litemedsam.finetune import SegTrainConfig, balanced_order, validation_record


def _examples(sources):
    return [SimpleNamespace(row={"source": s}) for s in sources]


def test_a_small_source_gets_half_the_draws_beside_a_big_one():
    sources = ["ct"] * 90 + ["polyp"] * 10
    rng = np.random.default_rng(0)
    draws = np.concatenate([balanced_order(rng, sources) for _ in range(200)])
    share = float(np.mean(draws >= 90))
    assert 0.46 < share < 0.54  # uniform sampling would give 0.10
    # within the small source every example is used, not one over and over
    assert set(draws[draws >= 90].tolist()) == set(range(90, 100))
    assert len(draws) == 200 * 100


def test_one_source_is_a_plain_shuffle():
    rng = np.random.default_rng(1)
    order = balanced_order(rng, ["ct"] * 50)
    assert sorted(order.tolist()) == list(range(50))


def test_validation_is_summarised_per_source_and_averaged_over_sources():
    val = _examples(["ct", "ct", "ct", "polyp"])
    by_source, macro = validation_record([0.9, 0.7, 0.8, 0.2], val)
    assert by_source == pytest.approx({"ct": 0.8, "polyp": 0.2})
    assert abs(macro - 0.5) < 1e-9  # the item mean would be 0.65: the big source would hide the small one's loss


def test_balancing_is_the_default_and_can_be_turned_off():
    assert SegTrainConfig().balance_sources is True
    assert SegTrainConfig(balance_sources=False).to_json()["balance_sources"] is False
