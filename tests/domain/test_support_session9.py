"""Support check, session 9: causes found on MedQuAD-style text (sentences written for these tests, new wording).

* A negation inside a leading frame ("If the rash does not fade within a week, ...") ends at the frame's comma: it
  does not deny the main clause, so "..., the cream is likely to help" is not "..., the cream is unlikely to help".
* A comparative or superlative of a listed scale word is on that scale ("colder", "milder", "rarest"), so "colder
  months" never supports "warmer months"; a noun ending in -er ("blocker", "water") gets no direction.
* A clause's subject "no" denies its verb: "No further scans are required" says "you do not require further scans".
* A number says something of the words after it: "60% are viral, 30% are bacterial" never supports "30% are viral".
* "A can change how B works" and "the risk of A is 3 times higher in people who have B" have two sides that a claim
  must not swap (the relative clause after each side counts as part of it).
"""

from __future__ import annotations

import pytest

from medstation.llm.polarity import analyse
from medstation.llm.support import check_claim


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


FRAME = ("Steroid cream is often tried first for eczema. If the itching does not settle within two weeks, "
         "the cream is not likely to help and your doctor may suggest another treatment.")
SEASON = ("Hay fever is caused by pollen. Symptoms are worse in the spring than in winter because grass pollen "
          "counts are higher in warmer months.")
MILD = "Chickenpox is usually milder in young children. Adults tend to have a more severe illness."
NO_SCANS = ("A bone density scan measures how strong your bones are. If the result is normal, you do not "
            "require further scans for five years.")


@pytest.mark.parametrize("sentence, passage", [
    # contradictions that were supported on 5036d72
    ("If the itching does not settle within two weeks, the cream is still likely to help.", FRAME),
    ("When the cough does not clear in three weeks, antibiotics are likely to work.",
     "When the cough does not clear in three weeks, antibiotics are not likely to work. Rest and fluids help."),
    ("Symptoms are worse in the spring because grass pollen counts are higher in colder months.", SEASON),
    ("Frostbite is more common in hotter weather.",
     "Frostbite is more common in colder weather. Keep hands and feet covered."),
])
def test_contradictions_refused(sentence: str, passage: str) -> None:
    assert not supported(sentence, passage)


@pytest.mark.parametrize("sentence, passage", [
    ("If the itching does not settle within two weeks, the cream is not likely to help.", FRAME),
    ("Grass pollen counts are higher in warmer months.", SEASON),
    ("Chickenpox is usually milder in young children.", MILD),
    ("If the result is normal, no further scans are required for five years.", NO_SCANS),
])
def test_faithful_supported(sentence: str, passage: str) -> None:
    assert supported(sentence, passage)


def test_frame_negation_stops_at_its_comma() -> None:
    tokens = {t.text: t for t in analyse("If you do not improve in a month, the drug is likely to work.").tokens}
    assert tokens["improve"].negated and not tokens["work"].negated


@pytest.mark.parametrize("word, value", [("colder", "cold"), ("warmer", "hot"), ("milder", "mild"),
                                         ("rarest", "rare"), ("thinner", "thin")])
def test_comparatives_are_on_their_scale(word: str, value: str) -> None:
    token = next(t for t in analyse(f"It is {word} here.").tokens if t.text == word)
    assert token.direction is not None and token.direction[1] == value


@pytest.mark.parametrize("word", ["blocker", "leader", "water", "number", "fever"])
def test_nouns_ending_in_er_have_no_direction(word: str) -> None:
    token = next(t for t in analyse(f"The {word} is here.").tokens if t.text == word)
    assert token.direction is None


SHARES = ("Each year about 200 cases of meningitis are reported. Of these, about 60% are viral, 30% are bacterial "
          "and 10% are fungal.")
INTERACT = ("Lithium needs regular blood tests. Several medicines, including some water tablets and pain relievers "
            "such as naproxen, can change how lithium works and raise its level.")
RATIO = ("Smoking raises the risk of several cancers. The risk of bladder cancer is about 3 times higher in people "
         "who smoke compared with people who have never smoked.")


@pytest.mark.parametrize("sentence, passage", [
    # contradictions that were supported on 5036d72
    ("Of the meningitis cases reported each year, about 30% are viral and 60% are bacterial.", SHARES),
    ("Lithium can change how some water tablets and pain relievers such as naproxen work.", INTERACT),
    ("The risk of smoking is about 3 times higher in people who have bladder cancer.", RATIO),
])
def test_swapped_numbers_and_sides_refused(sentence: str, passage: str) -> None:
    assert not supported(sentence, passage)


@pytest.mark.parametrize("sentence, passage", [
    ("Of the meningitis cases reported each year, about 60% are viral and 30% are bacterial.", SHARES),
    ("Some pain relievers such as naproxen can change how lithium works.", INTERACT),
    ("The risk of bladder cancer is about 3 times higher in people who smoke.", RATIO),
])
def test_same_numbers_and_sides_supported(sentence: str, passage: str) -> None:
    assert supported(sentence, passage)


EXAMPLE = ("Diet may affect the risk of gout. For example, people who eat a lot of red meat may have a higher risk "
           "of gout, while low-fat dairy foods may lower it.")
DEFINED = ("The mites that cause sarcoptic mange (SM) rarely survive long on people. In most patients with SM, "
           "the itch settles within a month of treatment.")


@pytest.mark.parametrize("sentence, passage", [
    # refused on 5036d72 ("the passage limits this to 'For example'", "... to 'In most patients with SM'")
    ("People who eat a lot of red meat may have a higher risk of gout.", EXAMPLE),
    ("In most patients with sarcoptic mange, the itch settles within a month of treatment.", DEFINED),
])
def test_connective_and_defined_abbreviation_are_no_limit(sentence: str, passage: str) -> None:
    assert supported(sentence, passage)


@pytest.mark.parametrize("sentence, passage", [
    ("People who eat a lot of red meat may have a lower risk of gout.", EXAMPLE),
    ("In most patients, the itch settles within a month of treatment.", DEFINED),
    ("In most patients with sarcoptic mange, the itch settles within a week of treatment.", DEFINED),
])
def test_same_style_contradictions_still_refused(sentence: str, passage: str) -> None:
    assert not supported(sentence, passage)


MEASLES = ("Measles spreads easily in schools. A rash usually occurs 3 to 5 days after the first signs of illness. "
           "The most common complications are ear infections, diarrhea and pneumonia.")


@pytest.mark.parametrize("sentence, passage", [
    # refused on 5036d72 ("not in the passage: appear")
    ("A rash usually appears 3 to 5 days after the first signs of illness.", MEASLES),
])
def test_appear_is_a_verb_of_occurrence(sentence: str, passage: str) -> None:
    assert supported(sentence, passage)


@pytest.mark.parametrize("sentence, passage", [
    ("A rash usually appears 7 to 10 days after the first signs of illness.", MEASLES),
    ("A rash rarely appears after the first signs of illness.", MEASLES),
    ("Ear infections are among the rarest complications of measles.", MEASLES),
])
def test_appear_and_among_keep_their_checks(sentence: str, passage: str) -> None:
    assert not supported(sentence, passage)


EXERCISE = ("Walking for 30 minutes a day with a friend works better than walking alone. Start slowly and build up "
            "over a few weeks.")


def test_swapped_comparison_of_actions_refused() -> None:
    # supported on 5036d72: "using" (a function word here) heads one side, "pairing" the other
    assert not supported("Using a diet plan on its own works better than pairing it with regular exercise.",
                         "Pairing a diet plan with regular exercise such as walking works better than using one "
                         "method alone. Aim for small changes.")


def test_comparison_of_actions_in_its_order_supported() -> None:
    assert supported("Walking for 30 minutes a day with a friend works better than walking alone.", EXERCISE)


SHINGLES = ("Shingles usually causes a painful rash. While most people with shingles have blisters on one side of the "
            "body, some people do not get blisters at all. Antiviral medicine works best if started within 3 days.")


def test_concessive_frame_is_its_own_statement() -> None:
    # both wrong on 5036d72: the main clause's "do not" was read as part of the "While ..." frame
    assert supported("Most people with shingles have blisters on one side of the body.", SHINGLES)
    assert not supported("Most people with shingles do not get blisters.", SHINGLES)


def test_concessive_frame_splits_the_clause() -> None:
    analysis = analyse("Although most adults recover, some need a transplant.")
    clauses = {t.text: t.clause for t in analysis.tokens}
    assert clauses["recover"] != clauses["transplant"]


# MedQuAD text often drops apostrophes ("dont", "cant", "youre", "youll").
LYME = ("Lyme disease cant be passed from person to person. If youre bitten by a tick, you dont need antibiotics "
        "unless a rash appears. Youll need to watch the bite for 30 days.")


@pytest.mark.parametrize("sentence", [
    "Lyme disease can be passed from person to person.",
    "If you are bitten by a tick, you need antibiotics.",
    "You will need to watch the bite for 10 days.",
])
def test_negation_without_apostrophe_refuses_contradictions(sentence: str) -> None:
    # the second was supported on 5036d72 ("dont" was read as a word, not as a negation)
    assert not supported(sentence, LYME)


@pytest.mark.parametrize("sentence", [
    "Lyme disease can't be passed from person to person.",
    "If you're bitten by a tick, you don't need antibiotics unless a rash appears.",
    "You'll need to watch the bite for 30 days.",
    "You will need to watch the bite for 30 days.",
])
def test_contractions_without_apostrophe_support_faithful_sentences(sentence: str) -> None:
    assert supported(sentence, LYME)


HEPATITIS_E = ("About 1 in 10 adults who are infected with hepatitis E develop jaundice. Pigs infect people through "
               "undercooked pork.")


def test_attributive_participle_is_no_relation() -> None:
    # refused on 5036d72 ("the two sides of 'infected' are swapped")
    assert supported("About 1 in 10 infected adults develop jaundice.", HEPATITIS_E)


@pytest.mark.parametrize("sentence", [
    "About 1 in 10 infected adults develop liver failure.",
    "About 1 in 3 infected adults develop jaundice.",
    "People infect pigs through undercooked pork.",
])
def test_attributive_participle_keeps_other_checks(sentence: str) -> None:
    assert not supported(sentence, HEPATITIS_E)


COPIES = ("Sickle cell trait is common. People who carry two copies of the gene, one from each parent, have a higher "
          "risk of anemia than people who carry one copy of the gene.")


def test_tied_windows_prefer_the_tighter_clause() -> None:
    # refused on 5036d72 ("the number one copy is not the passage's"): the claim's "who carry one copy" was
    # aligned with the passage's first relative clause, which ties with the second on shared words
    assert supported("People who carry two copies of the gene have a higher risk of anemia than people who carry "
                     "one copy.", COPIES)


@pytest.mark.parametrize("sentence", [
    "People who carry one copy of the gene have a higher risk of anemia than people who carry two copies.",
    "People who carry two copies of the gene have a higher risk of anemia than people who carry three copies.",
])
def test_tied_windows_keep_numbers_and_sides_checked(sentence: str) -> None:
    assert not supported(sentence, COPIES)
