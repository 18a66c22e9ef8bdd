"""Support check, session 8: a span of time said in another unit ("a year" / "12 months", "a fortnight" /
"2 weeks") is the same span; any other span, and a rate ("twice a day"), is not. Sentences written for these
tests."""

from __future__ import annotations

import pytest

from medstation.llm.durations import equivalents, same_duration
from medstation.llm.polarity import analyse
from medstation.llm.support import check_claim


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


@pytest.mark.parametrize("sentence, passage", [
    ("Honey should not be given to babies under one year old.",
     "Honey should not be given to babies under 12 months old."),
    ("The symptoms settle within a fortnight.", "The symptoms settle within 2 weeks."),
    ("The rash lasts 14 days.", "The rash lasts 2 weeks."),
    ("Wait 2 hours before eating.", "Wait 120 minutes before eating."),
])
def test_the_same_span_in_another_unit_is_supported(sentence, passage):
    assert supported(sentence, passage), check_claim(sentence, [passage])


@pytest.mark.parametrize("sentence, passage", [
    ("Honey should not be given to babies under two years old.",
     "Honey should not be given to babies under 12 months old."),
    ("The symptoms settle within a month.", "The symptoms settle within 2 weeks."),  # a month is not 4 weeks
    ("The rash lasts 10 days.", "The rash lasts 2 weeks."),
    ("Wait 90 minutes before eating.", "Wait 2 hours before eating."),
    ("Take the tablet twice a day.", "Take the tablet every 12 hours."),  # a rate is not a span
    ("Sunburn is worst about two days later.", "Sunburn is worst about 24 hours later."),
])
def test_another_span_is_refused(sentence, passage):
    assert not supported(sentence, passage), check_claim(sentence, [passage])


def test_equivalents_and_same_duration():
    assert equivalents(1, "year") == {"12"} and "14" in equivalents(2, "week")
    assert equivalents(3, "apple") == set()
    year, months = analyse("a year").tokens, analyse("12 months").tokens
    assert same_duration([t for t in year if t.text == "year"], months)
    assert not same_duration([t for t in year if t.text == "year"], analyse("10 months").tokens)
