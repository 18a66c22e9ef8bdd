"""Verbs that change an amount ("X increases the effect of Y", "X lowers the level of Y", "X makes Y") keep their
two sides: swapping who acts on whom is another statement. Examples written for these tests."""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim

PASSAGE = ("St John's wort can reduce the effect of the contraceptive pill. "
           "Grapefruit juice can raise the level of some statins in the blood. "
           "Smoking makes asthma attacks more frequent.")


@pytest.mark.parametrize("claim", [
    # all three fail on 4f20e5c: the sides of "reduce"/"raise"/"make" were not compared
    "The contraceptive pill can reduce the effect of St John's wort.",
    "Some statins can raise the level of grapefruit juice in the blood.",
    "Asthma attacks make smoking more frequent.",
])
def test_swapped_sides_of_an_amount_verb_are_unsupported(claim: str) -> None:
    assert check_claim(claim, [PASSAGE])[0] is None


@pytest.mark.parametrize("claim", [
    "St John's wort can reduce the effect of the contraceptive pill.",
    "The effect of the contraceptive pill can be reduced by St John's wort.",
    "Grapefruit juice can raise the level of some statins.",
])
def test_the_same_sides_are_supported(claim: str) -> None:
    supported, reason = check_claim(claim, [PASSAGE])
    assert supported == 0, reason


CAUSES = ("Heartburn is more common in pregnancy because the growing baby presses on the stomach. "
          "Antacids ease the burning quickly.")


def test_cause_and_effect_swapped_around_because_is_unsupported() -> None:
    """Fails on 4f20e5c: the two sides of "because" were not compared."""
    claim = "The growing baby presses on the stomach because heartburn is more common in pregnancy."
    assert check_claim(claim, [CAUSES])[0] is None


def test_the_same_cause_and_effect_are_supported() -> None:
    claim = "Heartburn is more common in pregnancy because the baby presses on the stomach."
    supported, reason = check_claim(claim, [CAUSES])
    assert supported == 0, reason
