"""A relative clause belongs to the noun it follows ("Children | who are bitten ..."), and a participle after its
noun ("children bitten in summer") is a passive: the people and the sides of a comparison stay where they are.
Examples written for these tests (not from any evaluation set)."""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim

PASSAGE = ("Lyme disease is spread by tick bites. "
           "Children who are bitten in summer are more likely to develop a rash than adults who are bitten. "
           "Most rashes fade within four weeks.")


def test_a_reduced_relative_clause_keeps_its_people() -> None:
    """Fails on 4f20e5c ("the passage says this of other people (no child here)")."""
    claim = "Children bitten in summer are more likely to develop a rash than adults who are bitten."
    supported, reason = check_claim(claim, [PASSAGE])
    assert supported == 0, reason


@pytest.mark.parametrize("claim", [
    "Adults who are bitten in summer are more likely to develop a rash than children bitten in summer.",
    "Adults bitten in summer are more likely to develop a rash than children who are bitten.",
])
def test_the_compared_people_swapped_are_unsupported(claim: str) -> None:
    assert check_claim(claim, [PASSAGE])[0] is None
