"""Meaning-aware support and rewrite checks on their hand-written sets, and ``medstation support check``.

The sets (tests/data/support_contradictions.jsonl, tests/data/rewrite_pairs.jsonl) were written before the
rules, with a fixed dev/test split (alternate items of each kind); these tests grade the **test** half.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medstation.cli import main
from medstation.llm.support import check_claim
from medstation.notes.facts import TranscriptFacts
from medstation.notes.rewrite import check_rewrite

DATA = Path(__file__).resolve().parents[1] / "data"


def rows(name: str, split: str = "test") -> list[dict]:
    return [r for r in (json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip())
            if r["split"] == split]


def support_figures(split: str) -> tuple[list[str], int, int, int]:
    """(contradictions marked supported, number of contradictions, faithful items supported, faithful items)."""
    items = rows("support_contradictions.jsonl", split)
    contradictions = [r for r in items if r["label"] == "contradiction"]
    faithful = [r for r in items if r["label"] == "supported"]
    wrong = [r["sentence"] for r in contradictions if check_claim(r["sentence"], r["passages"])[0] is not None]
    right = sum(check_claim(r["sentence"], r["passages"])[0] == r["passage"] for r in faithful)
    return wrong, len(contradictions), right, len(faithful)


def test_support_check_on_both_held_out_halves():
    # Issue 19's targets: <= 2 % of contradictions supported, >= 85 % of faithful items supported. Measured in
    # session 4: test 3/84 and 36/43, test2 0/69 and 32/39; session 5 (word families, embedding neighbours,
    # hedges where they bear): test 2/84 and 37/43, test2 0/69 and 34/39. Both halves have been seen since, so
    # they are development data now (the held-out figure is tests/data/support_claims_v3.jsonl's, see
    # docs/MEASUREMENTS.md). These bounds guard the measured level.
    wrong_1, n_1, right_1, m_1 = support_figures("test")
    wrong_2, n_2, right_2, m_2 = support_figures("test2")
    assert n_1 >= 75 and n_2 >= 60 and m_1 >= 40 and m_2 >= 35
    assert (len(wrong_1) + len(wrong_2)) / (n_1 + n_2) <= 0.02, wrong_1 + wrong_2
    assert right_1 / m_1 >= 0.8 and right_2 / m_2 >= 0.8


def accepted(row: dict) -> bool:
    return check_rewrite(row["source"], row["rewrite"], TranscriptFacts(row["source"])).ok


def test_rewrite_check_refuses_every_flipping_rewrite_of_the_test_half_and_keeps_faithful_ones():
    items = rows("rewrite_pairs.jsonl")
    flipped = [r for r in items if r["label"] == "flipped"]
    faithful = [r for r in items if r["label"] == "faithful"]
    assert len(flipped) >= 30 and len(faithful) >= 30
    assert [f"{r['source']} -> {r['rewrite']}" for r in flipped if accepted(r)] == []
    assert sum(accepted(r) for r in faithful) / len(faithful) >= 0.8
    # the second held-out half (written later): measured 1 of 25 flips accepted, 25 of 27 faithful accepted;
    # that one flip ("her parents support her financially") was then read and its cause fixed
    second = rows("rewrite_pairs.jsonl", "test2")
    assert sum(accepted(r) for r in second if r["label"] == "flipped") == 0
    kept = [accepted(r) for r in second if r["label"] == "faithful"]
    assert sum(kept) / len(kept) >= 0.8


@pytest.mark.parametrize("source, rewrite, why", [
    ("I have not been sleeping well.", "The patient reports sleeping well.", "negation dropped"),
    ("I stopped taking the sertraline.", "Client reports taking sertraline.", "negation dropped"),
    ("I go to the gym before work.", "Client reports going to the gym after work.", "'after'"),
    ("My brother hit me.", "Client reports hitting her brother.", "swapped"),
    ("I take 50 mg every night.", "Client reports taking 25 mg every night.", "50"),
    ("My brother hit me.", "The client hit her brother.", "swapped"),
    ("I hit my brother.", "The client's brother hit her.", "swapped"),
    # "her" before an adverb is the client, not a possessive (fails on ad2cb94: the roles swap went unseen;
    # found as test2's one accepted flip, so test2 is no longer untouched for rewrites)
    ("I support my parents financially.", "Client reports her parents support her financially.", "swapped"),
    ("I help my sister regularly.", "Client reports her sister helps her regularly.", "swapped"),
    # an added contrast or focus word changes what is said (fails on ad2cb94: the embedded model wrote this one
    # for the installer's sample session and it was accepted)
    ("I still go running on Saturdays, and that helps for a few hours.",
     "The patient reports running on Saturdays, but also helps for a few hours.", "added 'but'"),
    ("I drink on weekends.", "Client reports drinking only on weekends.", "added 'only'"),
])
def test_rewrite_that_flips_meaning_is_refused_with_the_reason(source, rewrite, why):
    # fails on 1c99c71: "not" was a stop word, before/after and numbers in words were not compared
    check = check_rewrite(source, rewrite, TranscriptFacts(source))
    assert not check.ok and why in check.reason


@pytest.mark.parametrize("source, rewrite", [
    ("I have not been sleeping well.", "Client reports not sleeping well."),
    ("Um, I haven't had a drink in 30 days.", "Client reports not having had a drink in 30 days."),
    ("My brother hit me last week.", "Client reports her brother hit her last week."),
    ("I was pushed by my boyfriend.", "The client reports being pushed by her boyfriend."),
    ("I have not been sleeping well.", "The client has not been sleeping well."),
    ("My mom takes care of my kids.", "The client's mother takes care of her kids."),
    ("My parents support me financially.", "Client reports her parents support her financially."),
])
def test_person_change_and_reported_speech_are_faithful(source, rewrite):
    check = check_rewrite(source, rewrite, TranscriptFacts(source))
    assert check.ok, check.reason


def test_support_check_command_prints_one_json_object_per_line_with_0_based_passages(tmp_path, capsys):
    lines = [{"sentence": "Take the tablet 30 minutes after meals.",
              "passages": ["Take the tablet 30 minutes before meals."]},
             {"sentence": "Lupus is more common in women than in men.",
              "passages": ["Asthma narrows the airways.", "Lupus is much more common in women than in men."]}]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert main(["support", "check", str(path), "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["supported"] is False and out[0]["passage"] is None and "after" in out[0]["reason"]
    assert out[1] == {"supported": True, "passage": 1, "reason": ""}
    assert main(["support", "check", str(path)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert len(text) == 2 and text[0].startswith("NOT supported") and text[1].startswith("supported by passage 1")


def test_support_check_command_names_the_bad_line_and_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"sentence": "x", "passages": ["x"]}\n{"sentence": "no passages"}\n')
    assert main(["support", "check", str(path), "--json"]) == 2
    assert "line 2" in capsys.readouterr().err
    path.write_text("not json\n")
    assert main(["support", "check", str(path)]) == 2
    assert "line 1" in capsys.readouterr().err
    assert main(["support", "check", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
