"""Grounded answers to safety questions fit the people asked about and quote the warning (issue 19)."""

from __future__ import annotations

from medstation.llm.answer.grounded import quotes_text, select_quotes
from medstation.llm.safety import is_safety_question, population_fit, populations
from medstation.rag.types import Passage


def passage(n, title, text):
    return Passage(f"c{n}", f"d{n}", title, f"https://x/{n}", "test", text, 1.0 / n, n, {})


ASPIRIN = [
    passage(1, "Kawasaki Disease", "Kawasaki disease is treated in the hospital. At the start of treatment, your "
                                   "child will receive high doses of aspirin and immunoglobulin."),
    passage(2, "Aspirin and Heart Attack", "Taking a low dose of aspirin every day can lower the chance of a heart "
                                           "attack in adults. Adults who have had a heart attack should take aspirin "
                                           "daily if their doctor advises it."),
    passage(3, "Reye Syndrome", "Reye syndrome is a rare illness that causes swelling in the liver and brain. "
                                "Children and teenagers should not take aspirin, because it can cause Reye syndrome."),
]


def test_should_children_take_aspirin_quotes_the_warning_not_a_treatment_or_adult_sentence():
    # fails on 1c99c71: the Kawasaki treatment sentence and the adult sentences were quoted as the answer
    def misleading(question, texts):  # a similarity that ranks the treatment and adult sentences first
        return [0.9 if "receive high doses" in t or "Adults who" in t else 0.5 for t in texts]

    for question in ("Should children take aspirin?", "Is it safe for children to take aspirin?",
                     "Can my child take aspirin for a fever?"):
        text = quotes_text(select_quotes(question, ASPIRIN, misleading))
        assert text == "Children and teenagers should not take aspirin, because it can cause Reye syndrome [3].", \
            (question, text)


def test_population_and_safety_wording_are_read_not_matched_by_example():
    assert is_safety_question("Can I take ibuprofen with warfarin?")
    assert is_safety_question("Is ibuprofen safe during pregnancy?")
    assert not is_safety_question("Can asthma be cured?") and not is_safety_question("What causes gout?")
    assert populations("Is it safe for pregnant women to eat fish?") == {"women", "pregnancy"}
    assert population_fit("Should children take aspirin?", "Adults can take aspirin for pain relief.") < 0
    assert population_fit("Should children take aspirin?", "Aspirin can cause stomach bleeding.") == 0  # nobody
    assert population_fit("Should adults wash hands?", "Adults and children should wash their hands.") > 0
