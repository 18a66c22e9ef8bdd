"""A passage that says one thing of one group and another of a second group ("Adults ... may take aspirin, but
children should not") does not say the first thing of everyone: a sentence naming no group is unsupported.
A sentence that keeps its group, and a passage that names only one group in passing, are unaffected."""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim

CONTRAST = [
    ("Aspirin may be taken for a fever.",
     "Adults with a fever may take aspirin, but children should not because of the risk of Reye syndrome."),
    ("The tablets can be crushed and mixed with food.",
     "For adults the tablets can be crushed and mixed with food, whereas children need the liquid form."),
    ("A daily dose of 20 mg is usual.",
     "In men a daily dose of 20 mg is usual; women usually start at 10 mg."),
]
KEPT_OR_SINGLE = [
    ("Adults with a fever may take aspirin.",
     "Adults with a fever may take aspirin, but children should not because of the risk of Reye syndrome."),
    ("Wash your hands before you feed the baby.",
     "Wash your hands with soap before you feed the baby."),
    ("Children should not be given aspirin.",
     "Adults with a fever may take aspirin, but children should not be given aspirin."),
]


@pytest.mark.parametrize("sentence, passage", CONTRAST)
def test_a_sentence_naming_no_group_is_not_supported_by_a_contrast_between_groups(sentence, passage):
    passage_index, reason = check_claim(sentence, [passage])
    assert passage_index is None and reason


@pytest.mark.parametrize("sentence, passage", KEPT_OR_SINGLE)
def test_a_sentence_keeping_its_group_or_a_single_group_passage_is_still_supported(sentence, passage):
    passage_index, reason = check_claim(sentence, [passage])
    assert passage_index == 0, reason
