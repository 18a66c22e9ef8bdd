"""Risk detection (recall on written phrasings, negations), the invented-fact check, parsing and fallback."""

from __future__ import annotations

import pytest

from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.draft import SentenceOrigin
from medstation.notes.facts import check_invented_facts
from medstation.notes.risk import RiskStatus, detect_risks, risk_flags
from medstation.notes.templates import BUILTIN_TEMPLATES
from medstation.notes.transcript import SpeakerRole, TranscriptError, parse_transcript

PRESENT = [
    ("suicidal_ideation", "C: Honestly I've been thinking about killing myself."),
    ("suicidal_ideation", "C: Some nights I want to die."),
    ("suicidal_ideation", "C: I no longer want to live like this."),
    ("suicidal_ideation", "C: Everyone would be better off without me."),
    ("suicidal_ideation", "C: I'm not sure I'm not suicidal, to be honest."),
    ("suicidal_ideation", "C: I can't stop thinking about ending my life."),
    ("suicidal_ideation", "C: I looked up how to hang myself."),
    ("homicidal_ideation", "C: I keep imagining I kill my boss."),
    ("homicidal_ideation", "C: I have thoughts of hurting other people."),
    ("self_harm", "C: I started cutting myself again last week."),
    ("self_harm", "C: When it gets bad I burn myself."),
    ("abuse", "C: My husband hits me when he drinks."),
    ("abuse", "C: I was sexually abused as a child."),
    ("abuse", "C: I'm afraid to go home."),
    ("overdose", "C: Last month I took too many pills on purpose."),
    ("overdose", "C: I overdosed in March."),
    ("lethal_means", "C: There is a gun in the house."),
    # Indirect phrasings (from the prompt-injection set's hostile transcripts, without their injections)
    ("suicidal_ideation", "C: I don't see the point of living any more, I plan to jump from the bridge on Friday."),
    ("suicidal_ideation", "C: I bought a rope yesterday and tested the beam in the garage."),
    ("homicidal_ideation", "C: I keep hearing voices telling me to hurt my neighbour."),
    ("homicidal_ideation", "C: I'm going to hurt the kids if they don't stop crying."),
    ("abuse", "C: I have been drinking a bottle of vodka a day and driving my kids to school."),
    ("self_harm", "C: I've stopped eating, I lost 10 kilos this month and I faint at work."),
]
DENIED = [
    ("suicidal_ideation", "T: She denies suicidal ideation."),
    ("suicidal_ideation", "C: I would never kill myself, I have my kids."),
    ("suicidal_ideation", "C: I'm not suicidal."),
    ("suicidal_ideation", "C: I haven't had any thoughts of suicide."),
    ("self_harm", "C: No, I don't hurt myself anymore, not for years."),
    ("homicidal_ideation", "T: Homicidal ideation: denied."),
    ("homicidal_ideation", "C: I would never hurt my kids."),
]


@pytest.mark.parametrize("category,text", PRESENT)
def test_every_risk_phrasing_is_detected(category, text):
    flags = risk_flags(detect_risks(parse_transcript(text)))
    assert [(f.category, f.status) for f in flags if f.category == category] == [(category, RiskStatus.present)]


@pytest.mark.parametrize("category,text", DENIED)
def test_negated_risk_is_a_documented_denial(category, text):
    flags = risk_flags(detect_risks(parse_transcript(text)))
    assert [(f.category, f.status, f.needs_acknowledgement) for f in flags] == [(category, RiskStatus.denied, False)]


def test_question_answered_decides():
    asked_no = parse_transcript("T: Any thoughts of suicide lately?\nC: No, none at all.")
    asked_yes = parse_transcript("T: Any thoughts of suicide lately?\nC: Sometimes, at night.")
    asked_vague = parse_transcript("T: Any thoughts of suicide lately?\nC: It's complicated.")
    assert risk_flags(detect_risks(asked_no))[0].status is RiskStatus.denied
    assert risk_flags(detect_risks(asked_yes))[0].status is RiskStatus.present
    assert risk_flags(detect_risks(asked_vague))[0].status is RiskStatus.unclear


def test_invented_facts_are_flagged_and_supported_ones_are_not():
    transcript = "I take sertraline 50 milligrams. It started five weeks ago, on Monday."
    assert check_invented_facts(transcript, "Takes sertraline 50 mg for 5 weeks since Monday.") == []
    flags = check_invented_facts(transcript, "Takes fluoxetine 20 mg since 3 March, per Dr Alvarez.")
    assert {(f.kind, f.text) for f in flags} == {("medication", "fluoxetine"), ("dose", "20 mg"),
                                                ("number", "3"), ("date", "March"), ("name", "Alvarez")}


SESSION = """Therapist: Good to see you. How was the week?
Client: I have been feeling anxious at work and I have trouble sleeping most nights since the move.
Client: Sometimes I want to die when the panic gets bad.
Therapist: On exam you appear tearful with a restricted affect and good eye contact.
Therapist: I think this is consistent with generalized anxiety and it is worsening this month.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""


class FailingBackend:
    def stream_chat(self, ctx, messages, settings):
        raise RuntimeError("llama.cpp crashed")
        yield  # pragma: no cover


def test_model_failure_gives_labelled_extractive_quotes_and_keeps_the_risk():
    transcript = parse_transcript(SESSION)
    draft = draft_note(JobContext(), transcript, BUILTIN_TEMPLATES["soap"], backend_factory=FailingBackend,
                       options=DraftOptions(max_rewrites=2))
    assert draft.fallback and draft.label.startswith("Extractive draft: verbatim transcript quotes")
    words = {s.origin for _, _, s in draft.sentences()}
    assert words == {SentenceOrigin.quote, SentenceOrigin.risk}
    lines = transcript.lines
    for _, _, s in draft.sentences():
        if s.origin is SentenceOrigin.quote:
            assert s.source_text in lines[s.evidence[-1] - 1].text
    risk = [s for _, _, s in draft.sentences() if s.origin is SentenceOrigin.risk]
    assert len(risk) == 1 and "suicidal ideation" in risk[0].text and risk[0].evidence == (3,)
    assert draft.provenance.fallback_reason.startswith("the model failed")


def test_extractive_draft_links_every_sentence_to_its_line():
    transcript = parse_transcript(SESSION)
    draft = draft_note(JobContext(), transcript, BUILTIN_TEMPLATES["soap"], options=DraftOptions(use_model=False))
    by_section = {s.key: [x.evidence for x in s.sentences] for s in draft.sections}
    assert (4,) in by_section["objective"] and (6,) in by_section["plan"]
    assert draft.evidence_share == 1.0 and draft.provenance.checks["invented_facts"] == 0


def test_parsers_read_each_format_with_speakers():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Therapist>How are you?</v>\n\n" \
          "00:00:03.500 --> 00:00:05.000\n<v Client>Tired, mostly.</v>\n"
    srt = "1\n00:00:01,000 --> 00:00:03,000\nT: How are you?\n\n2\n00:00:03,500 --> 00:00:05,000\nC: Tired.\n"
    csv_text = "speaker,text\nTherapist,How are you?\nClient,Tired.\n"
    json_text = '{"turns": [{"speaker": "doctor", "text": "How are you?"}, {"speaker": "patient", "text": "Tired."}]}'
    for data, name in ((vtt, "a.vtt"), (srt, "a.srt"), (csv_text, "a.csv"), (json_text, "a.json"),
                       ("[doctor] How are you?\n[patient] Tired.", "a.txt")):
        t = parse_transcript(data.encode(), name)
        assert [line.role for line in t.lines] == [SpeakerRole.clinician, SpeakerRole.client], name
    assert parse_transcript(vtt.encode(), "a.vtt").lines[1].start_s == 3.5


@pytest.mark.parametrize("data,message", [
    (b"", "empty"), (b"   \n ", "empty"), (b"\x00\x01binary\x00" * 10, "binary"),
    (b"caf\xe9 \xff\xfe\xfa text", "not UTF-8"), (b"a: b\n" * 1_200_000, "MB"),
])
def test_bad_input_gets_a_clear_message(data, message):
    with pytest.raises(TranscriptError, match=message):
        parse_transcript(data, "upload.txt")


def test_swapped_speakers_are_detected_and_swapped():
    t = parse_transcript("C: How long has it hurt?\nT: About a week.\nC: Any fever?\nT: No.\nC: Did you fall?\nT: No.")
    assert t.roles_look_swapped()
    assert t.with_roles_swapped().lines[0].role is SpeakerRole.clinician


def test_short_answer_is_read_with_its_question():
    transcript = parse_transcript("Doctor: Any swelling of your lips or tongue?\nPatient: No.\n"
                                  "Doctor: On exam your throat is red and your lungs sound clear today.")
    draft = draft_note(JobContext(), transcript, BUILTIN_TEMPLATES["soap"], options=DraftOptions(use_model=False))
    pairs = [(s.text, s.evidence) for _, _, s in draft.sentences()]
    # issue 18: the denial in clinical voice when the rewrite check accepts it, else the exchange verbatim with
    # each part attributed to who said it; either way resting on both lines
    assert ("Patient denies swelling of their lips or tongue.", (1, 2)) in pairs or \
        ('Doctor: "Any swelling of your lips or tongue?" Patient: "No."', (1, 2)) in pairs
