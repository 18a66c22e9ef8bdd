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
