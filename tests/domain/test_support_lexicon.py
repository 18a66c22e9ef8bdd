"""Support check, session 8: the WordNet synonym lexicon (resources/lexicon) widens matching of ordinary content
words only. A faithful rewording with synonyms is supported; a contradiction in the same wording style is still
refused (negation, quantifier, number, direction, drug, population); the lexicon loads from the shipped resource
with no WordNet or nltk package.

The sentences are written for these tests, not taken from an evaluation set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medstation.config import resources_dir
from medstation.llm.lexicon import RESOURCE, Lexicon, shared_lexicon
from medstation.llm.polarity import analyse
from medstation.llm.support import check_claim
from medstation.llm.word_alignment import align

ROOT = Path(__file__).resolve().parents[2]


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


def test_the_resource_is_shipped_small_and_with_its_licence():
    path = resources_dir() / RESOURCE
    assert path.is_file() and path.stat().st_size < 3_000_000
    licence = (path.parent / "WORDNET_LICENSE").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in licence
    lexicon = shared_lexicon()
    assert lexicon is not None and len(lexicon) > 50_000


def test_the_lexicon_loads_without_wordnet_or_nltk():
    """A fresh interpreter where ``import nltk`` fails and no WordNet folder is read still matches synonyms."""
    code = ("import sys; sys.modules['nltk'] = None\n"
            "from medstation.llm.lexicon import shared_lexicon\n"
            "lexicon = shared_lexicon()\n"
            "assert lexicon is not None and lexicon.synonyms('seldom', 'rarely')\n"
            "assert 'nltk' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("a, b", [
    ("seldom", "rarely"), ("disappears", "vanishes"), ("kids", "children"), ("begins", "starts"),
    ("physicians", "doctors"), ("sleepiness", "drowsiness"),
])
def test_synonyms_share_a_synset(a, b):
    assert shared_lexicon().synonyms(a, b)


@pytest.mark.parametrize("a, b", [
    ("increase", "decrease"), ("ibuprofen", "naproxen"), ("children", "adults"), ("men", "women"),
    ("before", "after"), ("always", "never"), ("safe", "dangerous"), ("one", "single"), ("dose", "acid"),
    ("harmless", "harmful"), ("benign", "malignant"), ("left", "right"), ("more", "less"),
])
def test_opposites_co_hyponyms_numbers_and_rare_senses_never_match(a, b):
    lexicon = shared_lexicon()
    assert not lexicon.synonyms(a, b) and not lexicon.related(a, b)


def test_inflections_exceptions_phrases_and_families():
    lexicon = shared_lexicon()
    assert "give" in lexicon.lemmas("given") and "child" in lexicon.lemmas("children")
    assert "stop" in lexicon.lemmas("stopped")
    assert lexicon.phrase_senses("sets", "off") & lexicon.senses("triggers")  # a phrasal verb is one word
    assert lexicon.related("pregnant", "pregnancy") and lexicon.related("dependent", "dependence")
    assert not lexicon.related("harm", "harmless")  # a suffix that turns the meaning is no family
    assert not lexicon.related("donate", "donor")  # a person is not the act


def test_antonyms_never_match_even_where_a_sense_is_shared():
    lexicon = Lexicon({"lift": [1], "drop": [1]}, {}, [["drop", "lift"]])
    assert not lexicon.synonyms("lift", "drop")
    assert Lexicon({"lift": [1], "raise": [1]}, {}, []).synonyms("lifts", "raise")


def test_align_uses_the_lexicon_and_can_do_without_it():
    claim = analyse("The rash typically disappears within a week.")
    evidence = analyse("The rash usually vanishes within a week.")
    aligned = align(claim, evidence, vectors=None)
    assert [t.stem for t in aligned.tokens if t.text == "disappears"] == ["vanish"]
    assert align(claim, evidence, vectors=None, lexicon=None) is claim


#: (passage, faithful rewording, contradictions in the same wording)
CASES = [
    ("The rash usually vanishes within a week.",
     "The rash typically disappears within a week.",
     ["The rash typically disappears within a month.", "The rash rarely disappears within a week.",
      "The rash typically does not disappear within a week."]),
    ("On its own, metformin rarely causes hypoglycaemia.",
     "Metformin on its own seldom causes hypoglycaemia.",
     ["Metformin on its own often causes hypoglycaemia.", "Gliclazide on its own seldom causes hypoglycaemia."]),
    ("Cold air can trigger an asthma attack.",
     "Cold air can set off an asthma attack.",
     ["Cold air cannot set off an asthma attack.", "Warm air can set off an asthma attack.",
      "Cold air can prevent an asthma attack."]),
    ("Smoking during pregnancy harms the baby.",
     "Smoking while pregnant harms the baby.",
     ["Smoking while pregnant does not harm the baby."]),
    ("The vaccine is offered to boys and girls.",
     "The vaccine is offered to both boys and girls.",
     ["The vaccine is not offered to both boys and girls.", "The vaccine is offered to both boys and adults."]),
    ("Cranberry juice can raise the level of warfarin in the blood.",
     "Drinking cranberry juice can raise the level of warfarin in the blood.",
     ["Drinking cranberry juice can lower the level of warfarin in the blood.",
      "Drinking cranberry juice can raise the level of heparin in the blood."]),
    ("Children with a cough should rest at home.",
     "Kids with a cough should rest at home.",
     ["Adults with a cough should rest at home.", "Kids with a cough must not rest at home."]),
    ("Doctors must check the blood level every 3 months.",
     "Physicians must check the blood level every 3 months.",
     ["Physicians may check the blood level every 3 months.", "Physicians must check the blood level every 6 months."]),
    ("Compression stockings can reduce swelling.",
     "Compression stockings can lessen swelling.",  # a synonym of a listed direction word takes its value
     ["Compression stockings can increase swelling.", "Compression stockings cannot lessen swelling."]),
    ("Levothyroxine is taken daily to treat an underactive thyroid.",
     "Levothyroxine is taken every day to treat an underactive thyroid.",
     ["Levothyroxine is taken every week to treat an underactive thyroid.",
      "Levothyroxine is taken on some days to treat an underactive thyroid."]),
    ("Deep vein thrombosis is a blood clot that forms in a deep vein.",
     "A DVT is a clot of blood in a deep vein.",
     ["A PE is a clot of blood in a deep vein.", "A DVT is not a clot of blood in a deep vein."]),
    ("UTIs are usually treated with antibiotics.",
     "Urinary tract infections are usually treated with antibiotics.",
     ["Urinary tract infections are rarely treated with antibiotics.",
      "Upper respiratory infections are usually treated with antibiotics."]),
    ("Chronic obstructive pulmonary disease makes breathing out hard.",
     "COPD makes breathing out hard.",
     ["COPD makes breathing out easy.", "CF makes breathing out hard."]),
    ("Acetaminophen is the first choice for fever in children.",
     "Paracetamol is the first choice for fever in children.",  # one medicine, British and American names
     ["Ibuprofen is the first choice for fever in children.", "Paracetamol is the last choice for fever in children.",
      "Paracetamol is the first choice for fever in adults."]),
    ("The condition is usually recognized early.",
     "The condition is usually recognised early.",
     ["The condition is rarely recognised early.", "The condition is usually recognised late."]),
    ("Long-term use can cause people to become dependent.",
     "Long-term use can cause dependence.",
     ["Long-term use cannot cause dependence.", "Short-term use can cause dependence."]),
]


@pytest.mark.parametrize("passage, faithful", [(p, f) for p, f, _ in CASES])
def test_a_rewording_with_synonyms_is_supported(passage, faithful):
    assert supported(faithful, passage), check_claim(faithful, [passage])


@pytest.mark.parametrize("passage, contradiction", [(p, c) for p, _, cs in CASES for c in cs])
def test_a_contradiction_in_the_same_wording_is_refused(passage, contradiction):
    assert not supported(contradiction, passage), check_claim(contradiction, [passage])


@pytest.mark.parametrize("sentence, passage", [
    ("Ibuprofen can irritate the stomach lining.", "Naproxen can irritate the stomach lining."),
    ("Children need a smaller dose.", "Adults need a smaller dose."),
    ("The drug increases the heart rate.", "The drug decreases the heart rate."),
    ("Antibiotics should be taken after meals.", "Antibiotics should be taken before meals."),
    ("Two doses are enough.", "One dose is enough."),
    ("The tablets are harmful for the kidneys.", "The tablets are harmless for the kidneys."),
    ("All patients need a second dose.", "Some patients need a second dose."),
])
def test_the_existing_guards_still_refuse(sentence, passage):
    assert not supported(sentence, passage), check_claim(sentence, [passage])


@pytest.mark.parametrize("sentence, passage", [
    # "keep" is "prevent" only in a minor sense: it never takes the direction of "prevents"
    ("Exercise keeps blood pressure high.", "Exercise prevents high blood pressure."),
    ("The cream keeps the skin dry.", "The cream prevents dry skin."),
    ("Vitamin D keeps bones weak.", "Vitamin D prevents weak bones."),
    ("Cold weather can set off asthma attacks.", "Cold weather can prevent asthma attacks."),
])
def test_a_minor_sense_gives_no_direction(sentence, passage):
    assert not supported(sentence, passage), check_claim(sentence, [passage])


def test_main_senses():
    lexicon = shared_lexicon()
    assert lexicon.synonyms("keeps", "prevents") and not lexicon.synonyms("keeps", "prevents", main=True)
    assert lexicon.synonyms("cuts", "reduces", main=True)  # the main sense of "reduce" has "cut"
