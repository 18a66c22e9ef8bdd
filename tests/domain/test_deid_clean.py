"""Properties of the de-identifier's value rules: date shifts, combined actions by Type, cleaning."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from medstation.imaging.deid.clean import scrub, shift_date_value
from medstation.imaging.deid.attribute_types import Requirement, requirement, resolve

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 12, 31))


@given(days, st.integers(min_value=-3640, max_value=-28))
def test_date_shift_is_exact_and_reversible(day, shift):
    text = day.strftime("%Y%m%d")
    moved = shift_date_value("DA", text, shift)
    assert moved == (day + timedelta(days=shift)).strftime("%Y%m%d")
    assert shift_date_value("DA", moved, -shift) == text
    dt = shift_date_value("DT", text + "101500.25+0100", shift)
    assert dt == moved + "101500.25+0100"  # time of day and offset stay


def test_unparseable_dates_are_not_shifted():
    assert shift_date_value("DA", "2024-01-02", -7) is None and shift_date_value("DA", ["20240102", "x"], -7) is None


@given(st.text(max_size=64), st.lists(st.text(min_size=3, max_size=10), max_size=5))
def test_scrub_never_lengthens_text(text, tokens):
    assert len(scrub(text, sorted(set(tokens), key=len, reverse=True))) <= len(text)  # VR lengths still hold


def test_scrub_is_case_insensitive_and_whole_value_first():
    assert scrub("MRI for JOHN doe, MRN 12345", ["12345", "John", "Doe"]) == "MRI for *** ***, MRN ***"


def test_combined_actions_follow_the_iod_type():
    assert resolve("X/Z/D", Requirement.optional) == "X"
    assert resolve("X/Z/D", Requirement.empty_allowed) == "Z"
    assert resolve("X/Z/D", Requirement.value_required) == "D"
    assert resolve("Z/D", Requirement.value_required) == "D" and resolve("Z/D", Requirement.optional) == "Z"
    assert resolve("X/D", Requirement.empty_allowed) == "D" and resolve("X/D", Requirement.optional) == "X"
    assert resolve("Z", Requirement.value_required) == "D"
    assert resolve("X/Z/U*", Requirement.optional) == "X" and resolve("X/Z/U*", Requirement.empty_allowed) == "U*"
    enhanced_mr, ct = "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.2"
    assert requirement(enhanced_mr, (), "ContentDate") is Requirement.value_required
    assert requirement(enhanced_mr, (), "DeviceSerialNumber") is Requirement.value_required
    assert requirement(ct, (), "StudyDate") is Requirement.empty_allowed
    assert requirement(ct, (), "InstitutionName") is Requirement.optional
