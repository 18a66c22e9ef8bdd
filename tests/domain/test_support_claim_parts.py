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
    listed = "Symptoms include fever, cough and tiredness."
    assert claim_parts(listed) == [listed]
    text = "Iron can turn stools black, which is harmless."
    assert claim_parts(text) == [text]


PAINKILLERS = ("Ibuprofen eases pain and swelling. Paracetamol is safe for most people. Codeine should not be "
               "taken in pregnancy.")


def test_a_part_about_it_is_about_the_first_part_s_subject() -> None:
    """'..., and it eases swelling' says paracetamol eases swelling; the passage says so of ibuprofen (fails on
    ad2cb94: every word was in two adjacent sentences)."""
    assert check_claim("Paracetamol is safe for most people, and it eases swelling.", [PAINKILLERS])[0] is None
    assert check_claim("Ibuprofen eases pain, and it should not be taken in pregnancy.", [PAINKILLERS])[0] is None
    claim = "Ibuprofen eases pain and swelling, and codeine should not be taken in pregnancy."
    assert check_claim(claim, [PAINKILLERS])[0] == 0


def test_a_pronoun_refers_back_not_forward() -> None:
    """'make it worse' is about psoriasis, named before; eczema comes after (fails on ad2cb94)."""
    passage = ("Psoriasis causes red, flaky patches of skin. Stress and smoking can make it worse. Eczema is "
               "usually worse in winter.")
    assert check_claim("Smoking can make eczema worse.", [passage])[0] is None
    assert check_claim("Stress and smoking can make psoriasis worse.", [passage])[0] == 0


def test_a_list_item_from_another_sentence_is_not_stated() -> None:
    passage = ("Gliclazide lowers blood sugar. It can cause low blood sugar if you skip meals. Take it with "
               "breakfast. Metformin should be taken after dinner.")
    assert check_claim("Take gliclazide with breakfast and dinner.", [passage])[0] is None
    assert check_claim("Take gliclazide with breakfast.", [passage])[0] == 0
