"""The reason given for an unsupported sentence comes from the passage sentence that speaks of it.

A passage sentence that never mentions a word of the claim ("cold") must not be the one whose complaint is reported
when another sentence of the same passage states the claim with the opposite polarity: the user needs to read
"negation dropped", not "the passage does not say 'cold'". Only the reason changes; the verdict is the same.
"""

from __future__ import annotations

from medstation.llm.support import check_claim, check_sentence, prepare_passage

COLD = "Antibiotics do not help a viral infection. If you have a cold, you dont need antibiotics."


def test_the_negation_is_reported_not_a_word_of_an_unrelated_sentence():
    index, reason = check_claim("If you have a cold, you need antibiotics.", [COLD])
    assert index is None
    assert reason.startswith("negation dropped"), reason


def test_the_reason_names_the_word_the_nearest_sentence_disagrees_on():
    result = check_sentence("If you have a cold, you need antibiotics.", [prepare_passage(COLD)])
    assert not result.supported
    assert "cold" not in result.missing, result


def test_a_faithful_sentence_of_the_same_passage_stays_supported():
    assert check_claim("If you have a cold, you do not need antibiotics.", [COLD])[0] == 0
