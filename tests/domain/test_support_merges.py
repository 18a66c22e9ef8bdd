"""Merged statements: a leading frame's people belong to the clause it opens, an instruction after a frame is
advice, ", while" joins two statements each checked against its own sentence, and a procedure named by the
passage's opening time frame is its topic. Examples written for these tests (not from any evaluation set)."""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim

CATARACT = ("After cataract surgery, most people can read again within a week. "
            "Eye drops are used for about four weeks to prevent infection. "
            "Avoid rubbing the eye and do not swim for two weeks.")
FLUIDS = ("Babies need milk as their main drink in the first year. "
          "For babies under 6 months, give only breast milk or formula. "
          "For older children, the amount of juice should be limited to one small glass a day.")
HANDS = ("Nerve damage in the left arm usually causes numbness in the thumb, and nerve damage in the right arm "
         "usually causes numbness in the little finger. "
         "A splint worn at night can ease the symptoms.")


@pytest.mark.parametrize("claim", [
    # the first two fail on 4f20e5c
    "After cataract surgery, eye drops are used for about four weeks to prevent infection.",  # topic frame
    "Babies under 6 months should be given only breast milk or formula.",  # instruction after "For ...,"
    "In older children the amount of juice should be limited to one small glass a day.",  # frame's people
    "Nerve damage in the left arm usually causes numbness in the thumb, while nerve damage in the right arm "
    "usually causes numbness in the little finger.",
])
def test_faithful_merges_are_supported(claim: str) -> None:
    supported, reason = check_claim(claim, [CATARACT, FLUIDS, HANDS])
    assert supported is not None, reason


@pytest.mark.parametrize("claim", [
    "Nerve damage in the left arm usually causes numbness in the little finger, while nerve damage in the right "
    "arm usually causes numbness in the thumb.",
    "In babies the amount of juice should be limited to one small glass a day.",
    "After cataract surgery, do not read for two weeks.",
    "Babies under 6 months may have juice or formula.",
])
def test_merges_that_change_the_meaning_are_unsupported(claim: str) -> None:
    assert check_claim(claim, [CATARACT, FLUIDS, HANDS])[0] is None


HIGH_POTASSIUM = ("High potassium, a level above 6 mmol/L, can cause an irregular heartbeat. "
                  "Treat it with insulin and glucose given into a vein. "
                  "Check the level again after 2 hours. "
                  "Use a low-potassium diet. A dietitian can help plan meals. "
                  "Limit bananas, potatoes and orange juice.")


@pytest.mark.parametrize("claim", [
    # fail on 4f20e5c: the topic "high potassium" opens with a direction word; ", then" and an instruction's
    # "and" did not cut the claim into its statements
    "Treat high potassium with insulin and glucose given into a vein, then check the level again after 2 hours.",
    "Use a low-potassium diet and limit bananas, potatoes and orange juice.",
])
def test_instructions_joined_by_then_or_and_are_each_checked(claim: str) -> None:
    supported, reason = check_claim(claim, [HIGH_POTASSIUM])
    assert supported == 0, reason


@pytest.mark.parametrize("claim", [
    "Treat low potassium with insulin and glucose given into a vein, then check the level again after 2 hours.",
    "Treat high potassium with insulin and glucose given into a vein, then check the level again after 6 hours.",
    "Use a low-potassium diet and eat more bananas, potatoes and orange juice.",
])
def test_a_changed_instruction_in_a_merge_is_unsupported(claim: str) -> None:
    assert check_claim(claim, [HIGH_POTASSIUM])[0] is None
