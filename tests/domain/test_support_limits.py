"""A passage sentence that limits what it states to a group, condition or age never supports the statement
without that limit; a claim keeping the limit, or taking another part of the sentence, is still supported.
Examples written for these tests (not from any evaluation set)."""

from __future__ import annotations

import pytest

from medstation.llm.restriction import limits
from medstation.llm.support import check_claim

STATINS = ("Statins lower cholesterol and reduce the risk of heart attacks. "
           "People who drink a lot of grapefruit juice should ask a pharmacist before starting simvastatin. "
           "In people over 75, statins may cause more muscle aches, so the dose is often kept low. "
           "Muscle pain that appears after a dose increase should be reported. "
           "Patients with liver disease should not take statins.")
EARACHE = ("Most ear infections clear up within three days without treatment. "
           "If a child has a high fever or discharge from the ear, antibiotics may be needed. "
           "Paracetamol eases ear pain and is given every 4 to 6 hours when the pain is bad.")


@pytest.mark.parametrize("claim", [
    # fail on 4f20e5c (a relative clause, a leading "In <group>,", "with <condition>" and an "if" frame dropped)
    "People should ask a pharmacist before starting simvastatin.",
    "Statins may cause more muscle aches, so the dose is often kept low.",
    "Patients should not take statins.",
    "Antibiotics may be needed.",
])
def test_a_claim_dropping_the_passage_s_limit_is_unsupported(claim: str) -> None:
    supported, reason = check_claim(claim, [STATINS, EARACHE])
    assert supported is None
    assert reason.startswith("the passage limits this to")


@pytest.mark.parametrize("claim", [
    "People who drink a lot of grapefruit juice should ask a pharmacist before starting simvastatin.",
    "In people over 75, statins may cause more muscle aches.",
    "Patients with liver disease should not take statins.",
    "Statins reduce the risk of heart attacks.",
    "If a child has discharge from the ear, antibiotics may be needed.",  # one of two conditions kept
    "Paracetamol eases ear pain.",  # another part of the sentence than the one the "when" limits
    "Most ear infections clear up within three days without treatment.",
])
def test_a_claim_keeping_the_limit_or_another_part_is_supported(claim: str) -> None:
    supported, reason = check_claim(claim, [STATINS, EARACHE])
    assert supported is not None, reason


def test_a_generic_people_word_does_not_keep_a_limit() -> None:
    """Fails on 4f20e5c (no limit was read); "people" alone does not keep "people with severe kidney disease"."""
    passage = ("Metformin is the first medicine for type 2 diabetes. In people with severe kidney disease, metformin "
               "can build up and cause lactic acidosis.")
    assert check_claim("In people, metformin can build up and cause lactic acidosis.", [passage])[0] is None
    assert check_claim("Metformin can build up and cause lactic acidosis in people with severe kidney disease.",
                       [passage])[0] == 0


def test_limits_are_read_from_frames_subjects_conditions_and_ages() -> None:
    sentence = "In pregnant women, iron tablets are advised if the blood count is low."
    phrases = [limit.phrase for limit in limits(sentence)]
    assert phrases == ["In pregnant women", "if the blood count is low"]
    assert [limit.phrase for limit in limits("Children under 12 should not take this syrup.")] == ["under 12"]
    # a non-restrictive clause after a comma, and a topic frame, are not limits
    assert limits("Hot flushes are common in the years around menopause, when oestrogen falls.") == ()
    assert limits("After a knee replacement, most people walk with a frame for a week.") == ()


GOUT = ("Gout causes sudden pain and swelling in a joint. "
        "Men and women with kidney disease are more likely to get gout. "
        "Older adults and people with diabetes are slow to heal after an attack. "
        "People with the condition should drink plenty of water. "
        "Toddlers or children under 12 should not be given colchicine.")


@pytest.mark.parametrize("claim", [
    "People with gout should drink plenty of water.",  # "the condition" names the passage's topic
    "Older adults are slow to heal after an attack.",  # the limit is on "people", the last of the joined nouns
])
def test_a_limit_on_the_topic_or_on_another_joined_noun_is_kept(claim: str) -> None:
    supported, reason = check_claim(claim, [GOUT])
    assert supported == 0, reason


@pytest.mark.parametrize("claim", [
    "People should drink plenty of water.",
    "Men are more likely to get gout.",
    "Children should not be given colchicine.",
    "Toddlers should not be given colchicine.",  # an age bound is on every joined noun
    "People are slow to heal after an attack.",
])
def test_dropping_those_limits_is_still_unsupported(claim: str) -> None:
    """Each fails on 4f20e5c (the limit was not read)."""
    assert check_claim(claim, [GOUT])[0] is None


DIALYSIS = ("Kidney failure can be treated with dialysis. "
            "Patients on dialysis need a low-potassium diet. "
            "People taking lithium should have their kidney function checked every 6 months. "
            "Adults who have never had hepatitis B can be vaccinated before dialysis starts. "
            "Haemodialysis, which uses a machine and a filter, is usually done three times a week.")


@pytest.mark.parametrize("claim", [
    # each fails on 4f20e5c: "on <treatment>", "taking <medicine>" and "who have never had X" were not read
    "Patients need a low-potassium diet.",
    "People should have their kidney function checked every 6 months.",
    "Adults can be vaccinated before dialysis starts.",
])
def test_subject_limits_with_on_taking_and_never_are_read(claim: str) -> None:
    supported, reason = check_claim(claim, [DIALYSIS])
    assert supported is None
    assert reason.startswith("the passage limits this to"), reason


@pytest.mark.parametrize("claim", [
    "Patients on dialysis need a low-potassium diet.",
    "People on lithium should have their kidney function checked every 6 months.",
    "Haemodialysis is usually done three times a week.",  # ", which uses a machine ...": an aside, not a limit
])
def test_keeping_them_or_dropping_an_aside_is_supported(claim: str) -> None:
    supported, reason = check_claim(claim, [DIALYSIS])
    assert supported == 0, reason
