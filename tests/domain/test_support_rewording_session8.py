"""Support check, session 8: rewordings that are not WordNet synonyms but general patterns of paraphrase. A
faithful rewording is supported; a contradiction in the same wording is still refused. Sentences written for
these tests.

* "the disease" / "the condition" in a claim refers back to what the passage is about;
* a generic person ("people", "patients", "anyone", "someone") is the "you" a passage advises;
* "discontinuation of X" / "cessation of X" is "stopping X" (a negation cue, like "stop");
* "stay away from X" / "stay home from X" / "steer clear of X" is "avoid X" (a negation cue).
"""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


#: (passage, faithful rewording, contradictions in the same wording)
CASES = [
    ("COPD is a long-term lung condition that makes it harder to breathe out. Stopping smoking is the most "
     "effective way to slow its progression.",
     "Stopping smoking is the most effective way to slow the disease.",
     ["Stopping smoking is the least effective way to slow the disease.",
      "Stopping smoking does not slow the disease.", "Stopping smoking is the most effective way to cure the disease."]),
    ("If you have kidney disease, avoid ibuprofen.",
     "People with kidney disease should avoid ibuprofen.",
     ["People with kidney disease should take ibuprofen.", "Children with kidney disease should avoid ibuprofen.",
      "People with liver disease should avoid ibuprofen."]),
    ("You will be sedated, so someone must drive you home.",
     "Another person must drive you home because you will be sedated.",
     ["Another person must not drive you home because you will be sedated."]),
    ("Sudden discontinuation of the medicine can cause withdrawal symptoms.",
     "Stopping the medicine suddenly can cause withdrawal symptoms.",
     ["Starting the medicine suddenly can cause withdrawal symptoms.",
      "Stopping the medicine slowly can cause withdrawal symptoms."]),
    ("Avoid alcohol while taking metronidazole.",
     "Stay away from alcohol while taking metronidazole.",
     ["Do not stay away from alcohol while taking metronidazole.",
      "Stay away from dairy while taking metronidazole."]),
    ("Children with chickenpox should stay away from nursery until the spots have crusted over.",
     "A child with chickenpox should stay home from nursery until the spots have crusted over.",
     ["A child with chickenpox should go to nursery until the spots have crusted over.",
      "A child with measles should stay home from nursery until the spots have crusted over."]),
    ("Stopping smoking halves the risk within a year.",
     "Cessation of smoking halves the risk within a year.",
     ["Cessation of smoking doubles the risk within a year.", "Cessation of drinking halves the risk within a year."]),
]


@pytest.mark.parametrize("passage, faithful", [(p, f) for p, f, _ in CASES])
def test_a_general_rewording_is_supported(passage, faithful):
    assert supported(faithful, passage), check_claim(faithful, [passage])


@pytest.mark.parametrize("passage, contradiction", [(p, c) for p, _, cs in CASES for c in cs])
def test_a_contradiction_in_the_same_wording_is_refused(passage, contradiction):
    assert not supported(contradiction, passage), check_claim(contradiction, [passage])
