"""Wordings of one meaning read alike, a pronoun names the previous sentence's subject, and a clause that
says only "which is harmless" is still a clause. Sentences written for these tests; each fails on ad2cb94."""

from __future__ import annotations

from medstation.llm.support import check_claim

LEAFLET = ("Omeprazole reduces the amount of acid your stomach makes. Take it once a day, at least an hour "
           "before a meal. Do not take more than 40 mg in a day.")


def test_no_less_than_is_at_least_and_once_daily_is_once_a_day() -> None:
    assert check_claim("Take omeprazole once daily, no less than an hour before a meal.", [LEAFLET])[0] == 0


def test_no_more_than_is_a_bound_not_a_negation() -> None:
    passage = "Omeprazole reduces stomach acid. Adults should take no more than 40 mg in a day."
    assert check_claim("Adults should take at most 40 mg of omeprazole in a day.", [passage])[0] == 0
    assert check_claim("Adults should take no more than 20 mg of omeprazole in a day.", [passage])[0] is None
    assert check_claim("Adults should take at least 40 mg of omeprazole in a day.", [passage])[0] is None


PASSAGE = ("Antihistamine tablets are often used for hay fever. They can make you drowsy, which is dangerous "
           "when driving. Taking them at night can help with sleep, but alcohol makes the drowsiness worse.")


def test_pronoun_subject_and_two_statements_joined() -> None:
    claim = ("Antihistamine tablets can make you drowsy, which is dangerous when driving, and taking them at "
             "night can help with sleep.")
    assert check_claim(claim, [PASSAGE])[0] == 0


def test_pronoun_subject_is_not_another_noun_of_the_passage() -> None:
    """'They' are the tablets; alcohol (named in the next sentence) does not take their place."""
    assert check_claim("Alcohol can make you drowsy, which is dangerous when driving.", [PASSAGE])[0] is None


STROKE = ("A stroke happens when the blood supply to part of the brain is cut off. Clot-busting medicine works "
          "best within 3 hours of the first symptoms. The flu vaccine cannot give you a stroke.")


def test_an_added_light_word_is_forgiven_where_the_claim_copies_a_sentence() -> None:
    """'when it is given' adds no statement (fails on ad2cb94: 'given' was a word the passage lacks)."""
    claim = "Clot-busting medicine works best when it is given within 3 hours of the first symptoms."
    assert check_claim(claim, [STROKE.rsplit(". ", 1)[0] + "."])[0] == 0


def test_a_light_word_standing_for_the_passage_verb_is_not_forgiven() -> None:
    """'can give you a stroke' is not 'happens when the blood supply is cut off', nor the negated sentence."""
    assert check_claim("The flu vaccine can give you a stroke.", [STROKE])[0] is None
    assert check_claim("A stroke can give you a cut to the brain.", [STROKE])[0] is None


ECZEMA = ("Eczema makes the skin dry, itchy and cracked. Emollients should be used every day, even when the skin "
          "looks clear. Steroid creams should be applied thinly, no more than twice a day.")


def test_the_passage_topic_is_said_of_every_sentence() -> None:
    """A passage about eczema: 'steroid creams for eczema' adds nothing (fails on ad2cb94)."""
    claim = "Steroid creams for eczema should be applied thinly, no more than twice a day."
    assert check_claim(claim, [ECZEMA])[0] == 0


def test_the_topic_does_not_take_another_word_s_place() -> None:
    """'Eczema should be used every day' swaps the topic into the emollients' slot."""
    assert check_claim("Eczema should be used every day, even when the skin looks clear.", [ECZEMA])[0] is None


def test_the_topic_is_not_made_the_subject_of_another_subject_s_statement() -> None:
    passage = ("Warfarin thins the blood to prevent clots. Take it at the same time each day. Cranberry juice "
               "can increase how much effect it has, so avoid it.")
    assert check_claim("Warfarin can increase how much effect cranberry juice has.", [passage])[0] is None


def test_should_not_be_stopped_is_do_not_stop() -> None:
    """Fails on ad2cb94: the passive's negation read as 'not suddenly'."""
    passage = "Do not stop taking prednisolone suddenly; your doctor will lower the dose slowly."
    assert check_claim("Prednisolone should not be stopped suddenly.", [passage])[0] == 0
    assert check_claim("Prednisolone should be stopped suddenly.", [passage])[0] is None
    assert check_claim("Stop taking prednisolone suddenly.", [passage])[0] is None


def test_people_qualifiers_count_on_the_sides_of_than() -> None:
    """'Younger people ... than people over 65' reverses the passage; the sides differ only by 'younger' and
    'over 65', which are not content words."""
    passage = ("Atrial fibrillation is an irregular heartbeat. People over 65 are more likely to have it than "
               "younger people.")
    claim = "Younger people are more likely to have atrial fibrillation than people over 65."
    assert check_claim(claim, [passage])[0] is None
    assert check_claim("People over 65 are more likely to have atrial fibrillation than younger people.",
                       [passage])[0] == 0
