"""Risk detection that generalises: everyday wording, negation scope, reasons, an honest unavailable detector.

Tests marked "fails on 1c99c71" are the issue's examples that the pattern-only detector missed.
The eval-set test reads the TEST half of tests/data/risk_statements_v3.jsonl (written independently, never
used for tuning).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from medstation.notes.risk import RiskStatus, detect_risks, risk_flags
from medstation.notes.transcript import parse_transcript

ROOT = Path(__file__).resolve().parents[2]
EVAL_SET_V3 = ROOT / "tests" / "data" / "risk_statements_v3.jsonl"


def _flags(text: str, **kw):
    return risk_flags(detect_risks(parse_transcript(text), **kw))


def _needing_ack(text: str) -> dict:
    return {f.category: f for f in _flags(text) if f.needs_acknowledgement}


# fails on 1c99c71: the everyday statements, none of which the patterns caught
@pytest.mark.parametrize("category, text", [
    ("suicidal_ideation", "Client: I have been having thoughts of taking my own life."),
    ("overdose", "Client: I took my mom's whole prescription and woke up in the ER."),
    ("self_harm", "Client: I used a razor blade on my thighs again on Friday."),
    ("suicidal_ideation", "Client: Everyone would be better off if I just wasn't around."),
    ("abuse", "Client: My stepdad comes into my room at night."),
])
def test_everyday_risk_statements_are_flagged(category, text):
    flags = _needing_ack(text)
    assert flags, f"no flag for {text!r}"
    assert category in flags, {c: f.why for c, f in flags.items()}


@pytest.mark.parametrize("text", [
    "Client: Traffic was killing me this morning.",
    "Client: I killed that exam.",
    "Client: I'd die for a coffee.",
    "Client: My dad used to cut hair for a living.",
    "Client: No thoughts of hurting myself.",
    "Client: I've never tried to kill myself.",
])
def test_look_alikes_and_denials_need_no_acknowledgement(text):
    assert _needing_ack(text) == {}


def test_negation_scope_die_versus_live():
    assert _needing_ack("Client: I don't want to die.") == {}
    flags = _needing_ack("Client: I don't want to live anymore.")
    assert flags["suicidal_ideation"].status is RiskStatus.present


def test_each_flag_says_why_pattern_or_nearest_exemplar():
    pattern = _needing_ack("Client: I have been thinking about suicide.")["suicidal_ideation"]
    assert pattern.why.startswith("line 1: pattern suicidal_ideation#") and pattern.score == 1.0
    semantic = _needing_ack("Client: I just want to be gone, nobody would even notice.")["suicidal_ideation"]
    assert "semantic: nearest exemplar" in semantic.why and "similarity" in semantic.why
    assert 0.0 < semantic.score <= 1.0 and semantic.details[0][0] == 1
    d = semantic.to_dict()
    assert {"category", "lines", "why", "score", "details"} <= d.keys() and d["lines"] == [1]


class _BrokenEmbedder:
    def encode(self, texts):
        raise OSError("weights file missing")


def test_unavailable_semantic_detector_is_reported_not_hidden():
    from medstation.notes.risk import DETECTOR_UNAVAILABLE
    from medstation.notes.risk_semantic import SemanticRiskModel

    model = SemanticRiskModel(embedder=_BrokenEmbedder())
    flags = _flags("Client: I have been thinking about suicide.", semantic=model)
    notice = [f for f in flags if f.category == DETECTOR_UNAVAILABLE]
    assert len(notice) == 1 and notice[0].needs_acknowledgement and "weights file missing" in notice[0].why
    assert "suicidal_ideation" in {f.category for f in flags}  # the patterns still ran
    assert [f.category for f in _flags("Client: fine.", semantic=None)] == [DETECTOR_UNAVAILABLE]


def test_a_working_semantic_detector_adds_no_notice():
    from medstation.notes.risk import DETECTOR_UNAVAILABLE

    assert all(f.category != DETECTOR_UNAVAILABLE for f in _flags("Client: I slept badly."))


def test_semantic_detector_uses_the_given_embedder_and_shipped_exemplars():
    from medstation.notes.risk_semantic import SemanticRiskModel, load_exemplars

    class Recording:
        """A stand-in embedder: a fixed pseudo-random unit vector per text; records what it embedded."""

        def __init__(self):
            self.calls = []

        def encode(self, texts):
            self.calls.append(list(texts))
            v = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts])
            return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    embedder = Recording()
    model = SemanticRiskModel(embedder=embedder)
    [score] = model.score(["a sentence"])
    exemplars = load_exemplars()
    assert embedder.calls == [[r["text"] for r in exemplars], ["a sentence"]] and model.error == ""
    assert 0.0 <= score.p_risk <= 1.0 and score.exemplar in {r["text"] for r in exemplars}
    kinds = {r["kind"] for r in exemplars}
    assert {"passive_wish", "active_ideation", "method", "intent", "plan", "preparatory", "self_harm", "homicidal",
            "abuse_child", "abuse_partner", "abuse_elder", "abuse_sexual", "coercive_control", "neglect",
            "overdose", "lethal_means", "denial", "benign"} == kinds


def test_importing_risk_does_not_load_the_model():
    code = ("import sys, medstation.notes.risk, medstation.notes.drafting; "
            "print(any(m in sys.modules for m in ('torch', 'sentence_transformers', 'sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_targets_on_the_test_half_of_the_held_out_v3_set():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from eval_risk import evaluate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    items = [json.loads(line) for line in EVAL_SET_V3.read_text().splitlines() if line.strip()]
    test = [i for i in items if i["split"] == "test"]
    assert sum(i["label"] == "risk" for i in test) >= 90 and sum(i["label"] != "risk" for i in test) >= 60
    totals = evaluate(test)["totals"]
    # Issue 18's targets are recall >= 0.95 and false alarms <= 0.15. tests/data/risk_statements_v3.jsonl was
    # written independently and run once, after the session-5 detector was final (2657eff): recall 0.938
    # (90/96), false alarms 0.182 (12/66) — not met (ba9a5bd in the same run: 0.948 and 0.167). These bounds
    # guard that level (about one item of slack each); raise them as the detector improves. The older
    # tests/data/risk_statements.jsonl is development data now (both halves were seen).
    assert totals["recall"] >= 0.927, totals
    assert totals["false_alarm_rate"] <= 0.197, totals


def test_tokenised_transcript_text_is_embedded_as_ordinary_text():
    from medstation.notes.risk_semantic import detokenise, word_count

    assert detokenise("uh , i do n't know , i ca n't . i wan na go .") == "uh, I don't know, I can't. I wanna go."
    assert word_count("very carefully .") == 2


# fails on ba9a5bd: ordinary medical-visit talk (written for this test, aci-bench style: tokenised, lower-case)
# raised risk flags — pill-taking, a fall, fragments such as "so has my son". Still a known false alarm now:
# "okay, I'll do whatever you think I should" (read as intent, risk probability 0.40).
VISIT = """[doctor] how are you doing with the blood pressure medicine ?
[patient] i've been pretty good about it . i take my pills every morning with breakfast .
[doctor] any falls since we last saw you ?
[patient] i did fall in the garden once , but i was fine .
[doctor] and your family , have they had the vaccine ?
[patient] yes , i have . and so has my son .
[doctor] okay . we'll keep the dose the same and recheck in three months .
[patient] very carefully .
"""


def test_an_ordinary_visit_raises_no_flag():
    assert _needing_ack(VISIT) == {}
