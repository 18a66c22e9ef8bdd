"""A claim that copies a passage sentence but swaps one slot is not supported, even when the swapped-in word
is elsewhere in the passage (medstation.llm.substitution). Sentences written for these tests, not taken from
an evaluation set. The swap tests fail on ad2cb94 (the word was "somewhere", so the claim passed)."""

from __future__ import annotations

import pytest

from medstation.llm.polarity import analyse
from medstation.llm.substitution import substitution
from medstation.llm.support import check_claim, prepare_passage

SWAPS = [
    # a drug named in the sentence before takes the place of the one the sentence is about
    ("Clopidogrel needs regular blood tests to check how thick your blood is.",
     "Clopidogrel is usually taken once a day. Warfarin needs regular blood tests to check how thick your "
     "blood is."),
    # the period of a rate
    ("Most adults need about 2 litres of fluid a week.",
     "Most adults need about 2 litres of fluid a day. Drink more in hot weather and a week of illness."),
    # one group of people for another, both named in the passage
    ("Toddlers can choke on whole grapes, so cut them in half.",
     "Teenagers and adults rarely choke. Babies can choke on whole grapes, so cut them in half."),
    # a one-off dose turned into a yearly one
    ("Adults over 65 should have a pneumonia vaccine every year and a flu vaccine every year.",
     "Adults over 65 should have a flu vaccine every year and a pneumonia vaccine once."),
]


@pytest.mark.parametrize("claim, passage", SWAPS)
def test_swapped_slot_is_not_supported(claim: str, passage: str) -> None:
    index, reason = check_claim(claim, [passage])
    assert index is None
    assert "where the sentence says" in reason


FAITHFUL = [
    # the passage refers back with a pronoun: the claim names what "them" means
    ("People on statins should report unexplained muscle pain.",
     "Statins lower cholesterol. Patients taking them should report unexplained muscle pain."),
    # "the condition" refers back to the named condition
    ("People with psoriasis often have itchy, scaly patches on the elbows.",
     "Psoriasis is a long-term skin disease. People with the condition often have itchy, scaly patches on the "
     "elbows."),
    # a word of the same family in the slot
    ("Metformin reduces the amount of sugar the liver releases.",
     "Metformin lowers blood sugar. It reduces the amount of sugar the liver makes and releases."),
]


@pytest.mark.parametrize("claim, passage", FAITHFUL)
def test_faithful_rewording_is_not_a_swap(claim: str, passage: str) -> None:
    assert substitution(analyse(claim), prepare_passage(passage).units, prepare_passage(passage).n_sentences) is None


def test_swap_names_both_words() -> None:
    claim, passage = SWAPS[0]
    prepared = prepare_passage(passage)
    assert substitution(analyse(claim), prepared.units, prepared.n_sentences) == ("clopidogrel", "warfarin")


def test_verb_cue_negates_only_its_object() -> None:
    """'Quitting alcohol helps the liver heal' says nothing negative about healing: 'does not help' is a
    contradiction (fails on ad2cb94: the cue's scope ran to the clause end, so the two negations cancelled)."""
    passage = "Liver damage from drinking can improve. Quitting alcohol is the best way to help the liver heal."
    assert check_claim("Quitting alcohol does not help the liver heal.", [passage])[0] is None


def test_passive_verb_cue_negates_its_subject() -> None:
    """'Grapefruit juice should be avoided' supports 'Avoid grapefruit juice' (fails on ad2cb94)."""
    passage = "Avoid grapefruit juice, as it can raise the level of the statin in your blood."
    claim = "Grapefruit juice should be avoided, as it can raise the level of the statin in your blood."
    assert check_claim(claim, [passage])[0] == 0


def test_a_time_qualifier_from_another_sentence_is_not_stated() -> None:
    """'within a day' is said of the scan, not of recovery (the pair of sentences held every word)."""
    passage = ("A chest X-ray is usually done within a day. Most people with mild pneumonia recover at home "
               "with antibiotics.")
    claim = "Most people with mild pneumonia recover at home with antibiotics within a day."
    assert check_claim(claim, [passage])[0] is None
    assert check_claim("Most people with mild pneumonia recover at home with antibiotics.", [passage])[0] == 0


def test_a_number_in_the_subject_a_pronoun_names_is_not_a_swap() -> None:
    passage = "Type 2 diabetes is linked to excess weight. It usually starts in adulthood."
    assert check_claim("Type 2 diabetes usually begins in adulthood.", [passage])[0] == 0
    assert check_claim("Type 1 diabetes usually begins in adulthood.", [passage])[0] is None
