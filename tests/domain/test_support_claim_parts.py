"""A sentence joining two statements that a passage makes in sentences that are not adjacent is supported when
each statement is; one unsupported part makes the whole unsupported. Written for these tests."""

from __future__ import annotations

from medstation.llm.claim_parts import claim_parts
from medstation.llm.support import check_claim

PASSAGE = ("Hay fever is an allergy to pollen. Antihistamines ease sneezing and itchy eyes. Pollen counts are "
           "highest on warm, dry days. Steroid nasal sprays work best if used every day through the season.")


def test_two_statements_from_sentences_apart_are_supported() -> None:
    """Fails on ad2cb94: only one sentence or two adjacent ones could state the whole claim."""
    claim = "Antihistamines ease sneezing and itchy eyes, and steroid nasal sprays work best if used every day."
    assert check_claim(claim, [PASSAGE])[0] == 0


def test_one_unsupported_part_makes_the_sentence_unsupported() -> None:
    claim = "Antihistamines ease sneezing and itchy eyes, and steroid nasal sprays work best if used once a week."
    assert check_claim(claim, [PASSAGE])[0] is None
    claim = "Antihistamines ease sneezing and itchy eyes, and they cure the allergy."
    assert check_claim(claim, [PASSAGE])[0] is None


def test_a_part_without_subject_takes_the_first_part_s() -> None:
    parts = claim_parts("Most adults need 8 hours of sleep and should avoid caffeine after noon.")
    assert parts == ["Most adults need 8 hours of sleep.", "Most adults should avoid caffeine after noon."]


def test_lists_and_relative_clauses_are_not_cut() -> None:
    assert claim_parts("Symptoms include fever, cough and tiredness.") == ["Symptoms include fever, cough and tiredness."]
    text = "Iron can turn stools black, which is harmless."
    assert claim_parts(text) == [text]
