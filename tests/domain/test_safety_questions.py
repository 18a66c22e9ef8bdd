"""Safety questions answer the question that was asked (issue #19: "Should children take aspirin?").

The passages are the starter knowledge base's own (resources/starter_kb), so these tests read exactly what
the chat retrieves on a fresh install; no model is loaded (word-overlap scorer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from medstation.llm.answer.grounded import quotes_text, select_quotes
from medstation.llm.answer.question_cues import QuestionType, classify
from medstation.llm.safety import is_safety_question, population_fit, rerank_for_safety, warning_cue

STARTER = Path(__file__).resolve().parents[2] / "resources" / "starter_kb" / "medquad_starter.jsonl"


@dataclass(frozen=True)
class _Passage:
    title: str
    text: str


def _passage(focus: str, must_contain: str) -> _Passage:
    for line in STARTER.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["focus"] == focus and must_contain.lower() in row["answer"].lower():
            return _Passage(row["focus"], row["answer"])
    raise AssertionError(f"starter KB has no {focus} passage with {must_contain!r}")


@pytest.fixture(scope="module")
def aspirin_passages() -> list[_Passage]:
    # the order plain retrieval gave: the Kawasaki treatment passage and adult heart-attack advice first
    return [_passage("Kawasaki Disease", "high-dose aspirin"), _passage("Heart Attack", "chew an aspirin"),
            _passage("Reye Syndrome", "aspirin"), _passage("Fever", "aspirin")]


@pytest.mark.parametrize("question", [
    "Should children take aspirin?", "Is it safe to drink alcohol while pregnant?",
    "Can I give my son ibuprofen?", "Can statins interact with other drugs?", "Is Botox safe?",
])
def test_safety_questions_are_recognised(question):
    assert is_safety_question(question)
    assert classify(question).kind is QuestionType.safety


@pytest.mark.parametrize("question", [
    "What are the symptoms of asthma?", "How can I prevent osteoporosis?", "Can asthma be cured?",
    "What is COPD?", "How is anemia diagnosed?",
])
def test_other_questions_keep_their_type(question):
    assert classify(question).kind is not QuestionType.safety


def test_aspirin_for_children_quotes_the_warnings_not_the_kawasaki_dose(aspirin_passages):
    text = quotes_text(select_quotes("Should children take aspirin?", aspirin_passages)).lower()
    assert "will receive high doses of aspirin" not in text
    assert "high-dose aspirin" not in text
    assert "chew an aspirin" not in text  # adult heart-attack advice answers another population
    assert "children with fevers should not take aspirin" in text or "recommend other pain relievers" in text


def test_rerank_puts_the_warning_passages_first(aspirin_passages):
    top = rerank_for_safety("Should children take aspirin?", aspirin_passages, 2)
    assert {p.title for p in top} == {"Reye Syndrome", "Fever"}


def test_population_fit():
    q = "Should children take aspirin?"
    assert population_fit(q, "Children with fevers should not take aspirin.") == 1.0
    assert population_fit(q, "Adults may take a daily aspirin.") == -1.0
    assert population_fit(q, "Taking aspirin increases the risk.", "Reye syndrome mostly affects children") > 0
    assert population_fit("Is aspirin safe?", "Adults may take a daily aspirin.") == 0.0


@pytest.mark.parametrize("text,expected", [
    ("Do not give aspirin to children.", 1.0),
    ("Some herbs can interact with prescription medicines.", 1.0),
    ("Adults can also take aspirin.", 1.0),
    ("Aspirin is a common pain reliever.", 0.0),
])
def test_warning_cue(text, expected):
    assert warning_cue(text) == expected
