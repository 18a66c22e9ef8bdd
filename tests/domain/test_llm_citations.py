"""Citation markers: parsing, validation against the retrieved passages, and the differential parser."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from medstation.llm.answer.citations import MARKER, marker_numbers, split_by_markers, validate_citations
from medstation.llm.answer.reasoning import CaseDescription, parse_differential


def test_valid_markers_are_kept_and_cited_in_order():
    result = validate_citations("Metformin is first line [2]. It lowers glucose [1, 2].", 3)
    assert result.text == "Metformin is first line [2]. It lowers glucose [1, 2]."
    assert result.cited == (2, 1)
    assert result.uncited == (3,)
    assert result.removed == ()


def test_marker_to_nothing_is_removed_and_flagged():
    result = validate_citations("Aspirin helps [7]. Rest too [1].", 2)
    assert result.text == "Aspirin helps. Rest too [1]."
    assert [(r.marker, r.invalid) for r in result.removed] == [("[7]", (7,))]
    assert result.cited == (1,)


def test_partly_valid_marker_keeps_only_valid_numbers():
    result = validate_citations("See [1, 9; 2].", 3)
    assert result.text == "See [1, 2]."
    assert result.removed[0].invalid == (9,)


def test_ranges_expand_and_zero_is_invalid():
    assert marker_numbers("1-3") == [1, 2, 3]
    result = validate_citations("Both [0] and [2-3].", 3)
    assert result.text == "Both and [2, 3]."
    assert result.cited == (2, 3)


def test_brackets_that_are_not_markers_are_left_alone():
    text = "Dose [mg/kg] per day, see table [a] and [ ]."
    assert validate_citations(text, 3).text == text


def test_split_by_markers_for_rendering():
    assert split_by_markers("A [1] b [2, 3]") == ["A ", (1,), " b ", (2, 3)]


_words = st.text(alphabet=st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), max_size=20)
_marker = st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=3).map(
    lambda ns: "[" + ", ".join(map(str, ns)) + "]"
)


@given(parts=st.lists(st.one_of(_words, _marker), max_size=12), n=st.integers(min_value=0, max_value=8))
def test_validation_invariants(parts, n):
    """Every remaining marker points inside 1..n; validating twice changes nothing; cited+uncited = all."""
    text = "".join(parts)
    result = validate_citations(text, n)
    for match in MARKER.finditer(result.text):
        assert all(1 <= x <= n for x in marker_numbers(match.group(1)))
    again = validate_citations(result.text, n)
    assert again.text == result.text and again.cited == result.cited and again.removed == ()
    assert sorted(result.cited + result.uncited) == list(range(1, n + 1))
    for removed in result.removed:
        assert all(not 1 <= x <= n for x in removed.invalid)


def test_differential_parses_numbered_items_with_citations():
    text = (
        "Based on the passages:\n"
        "1. **Acute appendicitis** — right lower quadrant pain and fever [1]\n"
        "2) Mesenteric adenitis: recent viral illness [2, 5]\n"
        "3. Ovarian torsion - sudden onset [9]\n"
        "Please verify clinically."
    )
    items = parse_differential(text, 3)
    assert [i.diagnosis for i in items] == ["Acute appendicitis", "Mesenteric adenitis", "Ovarian torsion"]
    assert items[0].rationale.startswith("right lower quadrant")
    assert items[0].citations == (1,)
    assert items[1].citations == (2,)  # [5] points at nothing
    assert items[2].citations == ()
    assert [i.rank for i in items] == [1, 2, 3]


def test_differential_never_invents_items_from_prose():
    assert parse_differential("The passages do not describe this presentation.", 3) == []
    assert parse_differential("", 3) == []


def test_case_description_question_and_query():
    case = CaseDescription(symptoms="fever, cough", history="smoker", findings="crackles right base")
    question = case.as_question()
    assert re.search(r"Symptoms: fever, cough\nHistory: smoker\nFindings: crackles", question)
    assert case.search_query() == "fever cough crackles right base smoker"
    absent = CaseDescription(symptoms="fever, no lymphadenopathy", findings="rash absent")
    assert absent.search_query() == "fever"  # absent findings never steer retrieval
    assert CaseDescription(" ", " ", "").is_empty()
