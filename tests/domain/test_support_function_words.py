"""Joining and light words ("together with", "rather than", "between", a light verb before an object the passage
states) are not statements of their own; the meaning words around them stay checked. Examples written for
these tests (not from any evaluation set)."""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim

PASSAGE = ("Regular stretching and a good warm-up help prevent muscle strains. "
           "For a sprained ankle, ice packs are used instead of heat in the first two days. "
           "Blood pressure tablets should be taken 2 hours apart from antacids, because antacids can block absorption. "
           "Oily fish is a good source of omega-3 fats. "
           "People with heart failure need diuretics every day to control fluid build-up.")


@pytest.mark.parametrize("claim", [
    # the last three fail on 4f20e5c ("not in the passage: than / contains / leave, between")
    "Regular stretching, together with a good warm-up, helps prevent muscle strains.",
    "For a sprained ankle, ice packs are used rather than heat in the first two days.",
    "Oily fish contains omega-3 fats.",
    "Leave 2 hours between blood pressure tablets and antacids, because antacids can block absorption.",
])
def test_joining_and_light_words_do_not_need_the_passage_s_wording(claim: str) -> None:
    supported, reason = check_claim(claim, [PASSAGE])
    assert supported == 0, reason


@pytest.mark.parametrize("claim", [
    "For a sprained ankle, heat packs are used rather than ice in the first two days.",  # the sides swapped
    "Leave 4 hours between blood pressure tablets and antacids.",  # the number changed
    "Oily fish contains saturated fats.",  # the object is not the passage's
    "Diuretics make heart failure more likely.",  # a causative is not a light verb
    "Regular stretching, together with a good warm-up, causes muscle strains.",
])
def test_the_meaning_around_them_stays_checked(claim: str) -> None:
    assert check_claim(claim, [PASSAGE])[0] is None


BOUNDS = ("Cysts under 2 cm usually need no treatment. Adults over 40 should have their eye pressure checked "
          "every two years.")


@pytest.mark.parametrize("claim", [
    # fail on 4f20e5c ("not in the passage: than"; "normally" was no hedge, so "usually" counted as dropped)
    "Cysts smaller than 2 cm normally need no treatment.",
    "Adults older than 40 should have their eye pressure checked every two years.",
])
def test_a_comparison_with_a_number_reads_as_its_bound(claim: str) -> None:
    supported, reason = check_claim(claim, [BOUNDS])
    assert supported == 0, reason


@pytest.mark.parametrize("claim", [
    "Cysts larger than 2 cm usually need no treatment.",
    "Adults younger than 40 should have their eye pressure checked every two years.",
    "Cysts smaller than 3 cm usually need no treatment.",
])
def test_the_other_bound_is_unsupported(claim: str) -> None:
    assert check_claim(claim, [BOUNDS])[0] is None
