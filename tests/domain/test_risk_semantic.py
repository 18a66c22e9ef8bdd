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
    from medstation.notes.risk_semantic import (EXEMPLARS, STATEMENT_EXEMPLARS, VISIT_EXEMPLARS, VARIED_EXEMPLARS,
                                                SemanticRiskModel, load_exemplars)

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
    exemplars = [r for path in (EXEMPLARS, STATEMENT_EXEMPLARS, VISIT_EXEMPLARS, VARIED_EXEMPLARS)
                 for r in load_exemplars(path)]
    assert len(exemplars) > 2000
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


def _cross_validated(train_file: Path, test_file: Path) -> dict:
    """Train a fresh detector on the exemplars, the visit negatives and ``train_file``'s statements; measure
    the full detector (patterns + semantic) on every statement of ``test_file`` (none of them trained on)."""
    from medstation.notes.risk_semantic import (EXEMPLARS, VISIT_EXEMPLARS, SemanticRiskModel, load_exemplars,
                                                statement_rows)

    def rows(path):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    model = SemanticRiskModel(rows=load_exemplars(EXEMPLARS) + load_exemplars(VISIT_EXEMPLARS)
                              + statement_rows(rows(train_file)))
    test = rows(test_file)
    flagged = [any(f.needs_acknowledgement for f in risk_flags(detect_risks(parse_transcript(f"[client] {i['text']}"),
                                                                             semantic=model))) for i in test]
    risk = [f for f, i in zip(flagged, test) if i["label"] == "risk"]
    none = [f for f, i in zip(flagged, test) if i["label"] != "risk"]
    return {"recall": sum(risk) / len(risk), "false_alarms": sum(none) / len(none), "n": (len(risk), len(none))}


@pytest.mark.parametrize("train_name, test_name", [("risk_statements.jsonl", "risk_statements_v3.jsonl"),
                                                   ("risk_statements_v3.jsonl", "risk_statements.jsonl")])
def test_targets_when_one_statement_set_is_held_out(train_name, test_name):
    # Both written sets are training data of the shipped detector since session 6, so the targets (recall >= 0.95,
    # false alarms <= 0.15) are checked by cross-validation: trained without one set, measured on all of it
    # (benchmarks/cv_risk.py --scheme files prints the same figures per category).
    data = ROOT / "tests" / "data"
    result = _cross_validated(data / train_name, data / test_name)
    assert result["n"][0] >= 190 and result["n"][1] >= 110
    assert result["recall"] >= 0.95, result
    assert result["false_alarms"] <= 0.15, result


# fails on cd183f4 (each was flagged as needing acknowledgement): denials whose negation the old scope missed
# ("nobody", "no longer think", negation after the risk words) and everyday idioms.
@pytest.mark.parametrize("text", [
    "Client: Honestly nobody has ever abused me, not as a kid and not now.",
    "Client: I no longer think about ending my life, that's behind me.",
    "Client: Suicide isn't something I'd ever consider, it goes against everything I believe.",
    "Client: The thoughts of ending it went away completely after the med change.",
    "Client: The physical therapist pushed me hard today and I'm wiped out.",
    "Client: My sister is going to kill me when she sees I borrowed her dress.",
    "Client: okay, I'll do whatever you think I should",  # the known false alarm of session 5 (read as intent)
])
def test_denials_and_idioms_outside_the_old_scope(text):
    assert _needing_ack(text) == {}, {c: f.why for c, f in _needing_ack(text).items()}


@pytest.mark.parametrize("text", [
    "Client: I no longer want to live like this.",
    "Client: There's no reason for me to stick around.",
    "Client: He is going to kill me, he said so last night.",
    "Client: Nobody would care if I was gone.",
])
def test_look_alike_wording_that_is_a_risk_stays_flagged(text):
    assert _needing_ack(text), text


def test_tokenised_transcript_text_is_embedded_as_ordinary_text():
    from medstation.notes.risk_semantic import detokenise, word_count

    assert detokenise("uh , i do n't know , i ca n't . i wan na go .") == "uh, I don't know, I can't. I wanna go."
    assert word_count("very carefully .") == 2


# fails on ba9a5bd: ordinary medical-visit talk (written for this test, aci-bench style: tokenised, lower-case)
# raised risk flags — pill-taking, a fall, fragments such as "so has my son". (The session-5 false alarm
# "okay, I'll do whatever you think I should" is gone since session 6: test_denials_and_idioms_outside_the_old_scope.)
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


def test_training_vectors_are_cached_per_embedder_identity(tmp_path, monkeypatch):
    from medstation.notes.risk_semantic import SemanticRiskModel
    from medstation.rag.embedder_onnx import CACHE_ENV

    class Identified:
        identity = "fake-embedder-v1"

        def __init__(self):
            self.calls = []

        def encode(self, texts):
            self.calls.append(len(texts))
            v = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts])
            return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    rows = [{"text": f"row {i}", "kind": k, "category": c} for i, (k, c) in
            enumerate([("passive_wish", "suicidal_ideation"), ("denial", "none"), ("benign", "none")] * 4)]
    first, second = Identified(), Identified()
    a = SemanticRiskModel(embedder=first, rows=rows).score(["a sentence"])[0]
    b = SemanticRiskModel(embedder=second, rows=rows).score(["a sentence"])[0]
    assert first.calls == [12, 1] and second.calls == [1]  # the second build read the 12 training vectors from disk
    assert len(list(tmp_path.glob("risk-exemplars-*.npy"))) == 1 and a.p_risk == pytest.approx(b.p_risk)
    Identified.identity = "fake-embedder-v2"  # another model: its vectors are not reused
    third = Identified()
    SemanticRiskModel(embedder=third, rows=rows).score(["a sentence"])
    assert third.calls == [12, 1]


def test_texting_idiom_is_not_a_threat_but_shooting_a_person_is():
    assert _needing_ack("Client: I'm going to shoot my cousin a text about the party.") == {}
    assert "homicidal_ideation" in _needing_ack("Client: I'm going to shoot my cousin when he gets home.")
