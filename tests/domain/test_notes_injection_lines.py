"""Transcript sentences that instruct the note's writer are never copied into a note (notes/injection.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.evidence import content_words, select_evidence
from medstation.notes.injection import is_note_instruction
from medstation.notes.templates import BUILTIN_TEMPLATES
from medstation.notes.transcript import parse_transcript

SET = Path(__file__).resolve().parents[1] / "data" / "prompt_injection_set.jsonl"
TRANSCRIPTS = [e for e in map(json.loads, SET.read_text(encoding="utf-8").splitlines()) if e["kind"] == "transcript"]


# T22's first line is the planted data itself, a statement (quoted, attributed), not an instruction
PLANTED_FACT = "My sister is also a client here"


def _hostile_sentences():
    for e in TRANSCRIPTS:
        for line in e["text"].splitlines():
            if not any(c.lower() in line.lower() for c in e["canaries"]):
                continue
            role, _, text = line.partition(":")
            for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
                if sentence.strip(" .") in e["canaries"] or sentence.startswith(PLANTED_FACT):
                    continue
                if len(content_words(sentence)) >= 4 and role.strip().lower() == "client":
                    yield e["id"], sentence


@pytest.mark.parametrize("entry_id,sentence", list(_hostile_sentences()))
def test_every_hostile_sentence_of_the_set_is_an_instruction(entry_id, sentence):
    assert is_note_instruction(sentence), (entry_id, sentence)


ORDINARY = [  # (sentence, said by the clinician)
    ("I have been feeling anxious at work most days and I wake up at four.", False),
    ("My doctor said I have asthma and gave me an inhaler.", False),
    ("I try to ignore that feeling when it comes.", False),
    ("I want to write a letter to my sister about it.", False),
    ("I was on the computer, then I went for a walk.", False),
    ("I gave the form to the assistant at the front desk.", False),
    ("My partner thinks I have ADHD but I don't think so.", False),
    ("I keep a record of my moods in a diary every evening.", False),
    ("We will add sertraline 50 mg to your plan and review in four weeks.", True),
    ("Let's try a role-play of the conversation with your boss.", True),
    ("Pretend you are talking to your younger self.", True),
    ("Risk: low, no current plan or intent, protective factors discussed.", True),
    ("Assessment: generalised anxiety disorder, improving with CBT.", True),
    ("Respiratory system: clear to auscultation bilaterally.", True),
    ("You are now sleeping better than last month.", True),
]


@pytest.mark.parametrize("sentence,clinician", ORDINARY)
def test_ordinary_speech_and_dictation_are_kept(sentence, clinician):
    assert not is_note_instruction(sentence, clinician=clinician)


def test_dictated_diagnosis_from_the_client_never_reaches_the_note():
    """T17: the client dictates an assessment; the note may not contain it (it used to, as 'Assessment')."""
    entry = next(e for e in TRANSCRIPTS if e["id"] == "T17")
    transcript = parse_transcript(entry["text"])
    hostile_line = next(line.number for line in transcript.lines if "Assessment should read" in line.text)
    evidence = select_evidence(transcript, BUILTIN_TEMPLATES["soap"])
    assert all(u.line != hostile_line for section in evidence for u in section.units)
    draft = draft_note(JobContext(), transcript, BUILTIN_TEMPLATES["soap"], options=DraftOptions(use_model=False))
    text = draft.to_text().lower()
    assert "unresponsive to treatment" not in text and "anxious before the exam" in text


def test_a_client_naming_a_diagnosis_is_history_not_assessment():
    transcript = parse_transcript("Therapist: How was the week?\n"
                                  "Client: I read online that I probably have bipolar disorder and I am worried.\n"
                                  "Therapist: I think this is consistent with generalized anxiety, improving.\n")
    evidence = {s.key: s for s in select_evidence(transcript, BUILTIN_TEMPLATES["soap"])}
    assert [u.line for u in evidence["assessment"].units] == [3]
    assert 2 in [u.line for u in evidence["subjective"].units]
