"""Support check, session 8: two contradictions that slipped through on e7dde4d (sentences written for these tests).

* A light word ("give", "make") is forgiven where a claim copies a passage sentence and adds it, but not when
  another sentence of the passage states the claim with another polarity: "The vaccine cannot give you flu"
  makes "The vaccine can give you flu" a dropped negation, not a copy of "The vaccine is offered every autumn"
  with a light word added.
* "Diuretics can also raise it" (the digoxin level) never supports "Digoxin can raise the level of diuretics":
  where the passage's object is a pronoun, the claim may not put the passage's subject on the object side.
"""

from __future__ import annotations

import pytest

from medstation.llm.support import check_claim


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


@pytest.mark.parametrize("sentence, passage", [
    # fail on e7dde4d
    ("The nasal spray vaccine can give you flu.",
     "The nasal spray vaccine is offered every autumn because flu viruses change. It is recommended for children "
     "aged 2 to 17. The vaccine cannot give you flu, although your nose may feel blocked for a day."),
    ("The shingles vaccine can give you shingles.",
     "The shingles vaccine is offered at age 70. The vaccine cannot give you shingles."),
    ("Digoxin can raise the level of diuretics.",
     "Vomiting can make the digoxin level rise. Diuretics can also raise it."),
])
def test_contradictions_refused(sentence, passage):
    assert not supported(sentence, passage), check_claim(sentence, [passage])


@pytest.mark.parametrize("sentence, passage", [
    ("Diuretics can raise the digoxin level.",
     "Vomiting can make the digoxin level rise. Diuretics can also raise it."),
    ("The vaccine cannot give you flu.", "The flu vaccine is offered every autumn. The vaccine cannot give you flu."),
    # the light word is still forgiven where nothing in the passage says otherwise
    ("Metformin should be taken with meals to help reduce stomach upset.",
     "Metformin should be taken with meals to reduce stomach upset."),
])
def test_faithful_counterparts_supported(sentence, passage):
    assert supported(sentence, passage), check_claim(sentence, [passage])
