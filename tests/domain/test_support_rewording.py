"""Support check, session 5: words said in other words (word families, embedding neighbours) are matched,
opposites never are, and every polarity rule still reads the reworded claim; hedges are compared where they
bear; the development set written for this (tests/data/support_dev_extra.jsonl) holds its level.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medstation.llm.polarity import analyse
from medstation.llm.support import check_claim
from medstation.llm.word_alignment import align, opposite, same_family

DATA = Path(__file__).resolve().parents[1] / "data"


def supported(sentence: str, passage: str) -> bool:
    return check_claim(sentence, [passage])[0] == 0


def test_word_families_and_opposites():
    assert same_family("weak", "weaken") and same_family("remov", "removal")
    assert not same_family("harm", "harmless") and not same_family("care", "careful")
    assert not same_family("man", "many")  # too short to be a family
    assert opposite("unsafe", "safe") and opposite("ineffective", "effective") and opposite("abnormal", "normal")
    assert opposite("viral", "bacterial") and opposite("arm", "leg")
    assert not opposite("begins", "starts") and not opposite("illness", "disease")


def test_align_replaces_a_reworded_word_with_the_passage_word():
    claim = analyse("The pain usually begins around the navel.")
    evidence = analyse("The pain usually starts around the navel.")
    aligned = align(claim, evidence)
    assert [t.stem for t in aligned.tokens if t.text == "begins"] == ["start"]
    # without embeddings and lexicon only families are matched; WordNet alone knows begin/start
    assert align(claim, evidence, vectors=None, lexicon=None) is claim
    assert [t.stem for t in align(claim, evidence, vectors=None).tokens if t.text == "begins"] == ["start"]


@pytest.mark.parametrize("sentence, passage", [
    ("Appendicitis usually begins with pain around the navel.", "Appendicitis usually starts with pain around the navel."),
    ("Osteoporosis weakens bones.", "Osteoporosis makes bones weak and more likely to break."),
    ("Appendicitis is treated by removing the appendix surgically.",
     "Appendicitis is treated by surgical removal of the appendix."),
    ("Adults need at least 7 hours of sleep per night.", "Adults need 7 or more hours of sleep per night."),
    ("Long flights and recent surgery increase the risk of deep vein thrombosis.",
     "Deep vein thrombosis is a blood clot in a deep vein, usually in the leg. Long flights and recent surgery "
     "raise the risk."),
    ("Muscle pain usually goes away when the dose is lowered.",
     "Muscle pain is the most common side effect, and it usually goes away when the dose is lowered."),
    ("Women get urinary tract infections more often than men.",
     "Urinary tract infections are more common in women than in men."),
    ("Alcohol can trigger gout attacks.", "Gout attacks can be triggered by alcohol."),
])
def test_faithful_rewordings_are_supported(sentence, passage):
    assert supported(sentence, passage), check_claim(sentence, [passage])


@pytest.mark.parametrize("sentence, passage", [
    # a negation stays a negation through a reworded word
    ("The pain does not begin around the navel.", "The pain starts around the navel."),
    # a reworded word must be in the statement its clause aligns with, not in a neighbouring sentence
    ("Weight-bearing exercise weakens bones.",
     "Osteoporosis makes bones weak. Weight-bearing exercise and calcium help keep bones strong."),
    # opposites that embeddings put close together
    ("The treatment is ineffective in adults.", "The treatment is effective in adults."),
    ("Iron supplements are unsafe.", "Iron supplements are safe."),
    ("Signs include a wet mouth.", "Signs include fewer wet diapers and a dry mouth."),
    # "no tears" never supports "tears", even when the claim aligns with another clause
    ("Signs of dehydration in babies include tears when crying.",
     "Dehydration in babies can be dangerous. Signs include fewer wet diapers, a dry mouth and no tears when crying."),
    # a dropped hedge that bears on what the claim states is still refused
    ("Aspirin prevents heart attacks.", "Aspirin may prevent heart attacks in some adults."),
    ("Moles are harmless.", "Most moles are harmless."),
    # "may" where the passage says something is needed
    ("A full course of antibiotics may prevent complications.",
     "A full course of antibiotics is needed to prevent complications."),
    # "over several weeks" is a span, not "more": increased/reduced still differ
    ("The dose should be increased slowly over several weeks.", "The dose should be reduced slowly over several weeks."),
    # a capital letter names the thing
    ("Hepatitis B is spread through contact with infected blood.",
     "Hepatitis C is spread through contact with infected blood."),
])
def test_contradictions_through_rewording_are_refused(sentence, passage):
    assert not supported(sentence, passage)


def test_development_set_of_this_session_holds_its_level():
    """tests/data/support_dev_extra.jsonl: 130 items written for this session (rules were tuned on them:
    development data, not evidence). Measured: 0 / 70 contradictions supported, 47 / 60 faithful supported."""
    items = [json.loads(line) for line in (DATA / "support_dev_extra.jsonl").read_text().splitlines() if line.strip()]
    wrong = [r["sentence"] for r in items if r["label"] == "contradiction" and check_claim(r["sentence"], r["passages"])[0] is not None]
    faithful = [r for r in items if r["label"] == "supported"]
    right = sum(check_claim(r["sentence"], r["passages"])[0] == r["passage"] for r in faithful)
    assert len(items) >= 120 and wrong == []
    assert right / len(faithful) >= 0.75


def test_independent_held_out_set_v3():
    """tests/data/support_claims_v3.jsonl, written by another helper without sight of the rules and run once on
    the final rules of session 5 (then copied here): contradictions supported dev 0 / 50, test 0 / 50;
    faithful paraphrases supported dev 5 / 30, test 4 / 30 -- the faithful target (>= 85 %) is missed by far:
    its paraphrases reword most content words ("reacted badly to penicillin" for "an allergic reaction to
    penicillin"), which the rules refuse. These bounds guard the measured level; the set is no longer unseen."""
    items = [json.loads(line) for line in (DATA / "support_claims_v3.jsonl").read_text().splitlines() if line.strip()]
    contradictions = [r for r in items if r["label"] == "contradiction"]
    faithful = [r for r in items if r["label"] == "supported"]
    assert len(contradictions) == 100 and len(faithful) == 60
    wrong = [r["sentence"] for r in contradictions if check_claim(r["sentence"], r["passages"])[0] is not None]
    assert len(wrong) <= 2, wrong
    assert sum(check_claim(r["sentence"], r["passages"])[0] == r["passage"] for r in faithful) >= 8
