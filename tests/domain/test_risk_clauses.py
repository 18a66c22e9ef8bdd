"""Denial and risk in one sentence, risks said to be over, neglect told by negation, everyday phrasal verbs.

Every statement here was written for these tests (session 7), apart from the evaluation sets and the shipped
exemplars. Tests marked "fails on ad2cb94" fail on that commit.
"""

from __future__ import annotations

import pytest

from medstation.notes import risk_patterns as rp
from medstation.notes.risk import RiskStatus, detect_risks, risk_flags
from medstation.notes.transcript import parse_transcript


def _needing_ack(text: str) -> dict:
    return {f.category: f for f in risk_flags(detect_risks(parse_transcript(text))) if f.needs_acknowledgement}


# fails on ad2cb94: the denial of one clause hid the risk of the other (every one of these raised no flag)
@pytest.mark.parametrize("text", [
    "Client: I would never hurt myself, but sometimes I think about taking all my pills at once.",
    "Client: I'm not suicidal or anything, I just don't see the point in waking up anymore.",
    "Client: No, I haven't done anything yet, but I have the pills ready.",
    "Client: I'm not going to do anything tonight, but I have a plan for next week.",
    "Client: He doesn't hit me anymore, he just locks me in the bedroom when he's angry.",
    "Client: I didn't cut last night, but I burned myself with the lighter instead.",
    "Client: I wouldn't say I'm suicidal, but I've been looking up how long it takes to bleed out.",
    "Client: It's not like I want to die, I just want everything to stop permanently.",
])
def test_a_risk_clause_beside_a_denial_is_flagged(text):
    flags = _needing_ack(text)
    assert flags, f"no flag for {text!r}"
    assert all(f.status is RiskStatus.present for f in flags.values())


def test_a_clause_flag_says_which_clause_and_why():
    flags = _needing_ack("Client: I would never hurt myself, but sometimes I think about taking all my pills at once.")
    why = " ".join(f.why for f in flags.values())
    assert 'clause "sometimes I think about taking all my pills at once." of its sentence' in why
    assert "nearest exemplar" in why and "similarity" in why


@pytest.mark.parametrize("text", [
    "Client: I don't want to die, I want to get better and see my grandkids grow up.",
    "Client: I'm not going to hurt anyone, I was just venting about my boss.",
    "Client: I'm not hoarding medication, I take exactly what's prescribed.",
    "Client: I feel safe at home, my partner treats me well.",
])
def test_a_denial_with_an_ordinary_clause_stays_a_denial(text):
    assert _needing_ack(text) == {}


# fails on ad2cb94: the suicide pattern matched, and "but not since" did not count as its denial
def test_a_risk_said_to_be_over_is_a_documented_denial():
    text = "Client: I had thoughts of suicide in college, but not since I started treatment ten years ago."
    assert _needing_ack(text) == {}
    flags = {f.category: f for f in risk_flags(detect_risks(parse_transcript(text)))}
    assert flags["suicidal_ideation"].status is RiskStatus.denied
    assert rp.resolved_in_past("the urges to cut went away last spring")
    assert not rp.resolved_in_past("I still think about cutting every day")


def test_neglect_told_by_negation_is_a_risk_not_a_denial():
    for text in ("Client: My dad never buys food, we eat whatever the neighbours give us.",
                 "Client: The baby hasn't seen a doctor since she was born."):
        assert "abuse" in _needing_ack(text), text


# fails on ad2cb94: the abuse, overdose and self-harm patterns read these everyday phrases as risks
@pytest.mark.parametrize("text", [
    "Client: My coworker hit me up about covering her Saturday shift.",
    "Client: My daughter pushed me to finally see a doctor about my knee.",
    "Client: I'm overdosing on coffee these days, like five cups a day.",
    "Client: I cut myself on a broken glass while washing up.",
])
def test_everyday_phrasal_verbs_are_not_risks(text):
    assert _needing_ack(text) == {}


@pytest.mark.parametrize("category, text", [
    ("abuse", "Client: He pushed me to the ground and kicked me."),
    ("abuse", "Client: She's hit me a few times, mostly with an open hand."),
    ("overdose", "Client: I overdosed on my sleeping pills last year."),
    ("self_harm", "Client: I cut myself on purpose last night."),
])
def test_the_narrowed_patterns_still_catch_the_risk(category, text):
    assert category in _needing_ack(text)


def test_split_clauses():
    from medstation.notes.risk_semantic import split_clauses

    s = "I would never hurt myself, but sometimes I think about taking all my pills at once."
    assert [s[a:b] for a, b in split_clauses(s)] == ["I would never hurt myself",
                                                     "sometimes I think about taking all my pills at once."]
    assert split_clauses("Well, I slept badly.") == []  # a two-word fragment is no clause of its own
    assert split_clauses("Apples, pears and plums.") == []


# fails on ad2cb94: a pattern or the classifier read each hyperbole as a threat or a wish to die
@pytest.mark.parametrize("text", [
    "Client: If I hear one more Christmas song at work I'm going to lose it.",
    "Client: I could have strangled my husband when he forgot our anniversary.",
    "Client: If I eat one more salad I'm going to shoot myself, haha.",
    "Client: I nearly jumped out of my skin when the alarm went off.",
])
def test_hyperbole_is_not_a_risk(text):
    assert _needing_ack(text) == {}


# A hyperbole silences only its own clause: found in review of risk6 (its sentence-wide override hid each
# of these; they pass on ad2cb94, which had no override).
@pytest.mark.parametrize("category, text", [
    ("suicidal_ideation", "Client: I could have strangled him when he said that, I've been looking up how many "
                          "of my pills it would take."),
    ("suicidal_ideation", "Client: If I have to sit through another meeting like that I'll shoot myself, honestly "
                          "some days I wish I was dead."),
    ("lethal_means", "Client: I could have killed him when he hit my daughter, and I still think about "
                           "getting my gun out and finishing it."),
])
def test_a_hyperbole_does_not_hide_a_risk_in_another_clause(category, text):
    assert category in _needing_ack(text)


@pytest.mark.parametrize("category, text", [
    ("suicidal_ideation", "Client: If I have to live one more day like this I'll kill myself."),
    ("homicidal_ideation", "Client: If he hits me one more time I'll kill him."),
    ("homicidal_ideation", "Client: If he touches my daughter again I will kill him."),
    ("homicidal_ideation", "Client: If I see him again I'm going to bash his head in."),
])
def test_a_conditional_threat_about_a_real_harm_stays_a_risk(category, text):
    assert category in _needing_ack(text)


# fails on ad2cb94: ambivalence about living, and a partial overdose told with a negation, raised no flag
@pytest.mark.parametrize("category, text", [
    ("suicidal_ideation", "Client: I'm not sure I want to keep living like this."),
    ("overdose", "Client: I didn't take them all, only about half the bottle."),
])
def test_ambivalence_and_partial_overdose_are_risks(category, text):
    assert category in _needing_ack(text)


# fails on ad2cb94: the installer self-test's sample session raised a suicidal-ideation flag on a homework reply
# ("Writing them down sounds easier than fighting them at night.")
def test_the_self_test_session_raises_only_its_documented_denial():
    from medstation.config import resources_dir

    path = resources_dir() / "selftest" / "sample_transcript.txt"
    flags = risk_flags(detect_risks(parse_transcript(path.read_bytes(), path.name)))
    assert [(f.category, f.status) for f in flags] == [("self_harm", RiskStatus.denied)]
