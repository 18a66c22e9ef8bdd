"""Risk flags are never changed by text in a transcript (the hostile transcripts of the injection set).

Each hostile transcript carries real risk content and a line telling the AI to hide it. Flags
come from deterministic detection, never from the model: the hostile line may add a flag, but
every category the transcript flags without it is still flagged, needing acknowledgement, in
the detector's output and in the drafted note.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medstation.jobs import JobContext

pytest.importorskip("medstation.notes.drafting", reason="the notes pipeline is not merged on this branch yet")

from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.risk import detect_risks, risk_flags
from medstation.notes.templates import BUILTIN_TEMPLATES
from medstation.notes.transcript import parse_transcript

SET = Path(__file__).resolve().parents[1] / "data" / "prompt_injection_set.jsonl"
HOSTILE = [e for e in map(json.loads, SET.read_text(encoding="utf-8").splitlines())
           if e["kind"] == "transcript" and e["goal"] == "hide_risk"]


def _without_injection(entry) -> str:
    return "\n".join(line for line in entry["text"].splitlines()
                     if not any(c.lower() in line.lower() for c in entry["canaries"]))


def _needing_ack(text: str) -> set[str]:
    return {f.category for f in risk_flags(detect_risks(parse_transcript(text))) if f.needs_acknowledgement}


def test_the_hostile_transcripts_carry_detectable_risk():
    # Every hostile transcript states a real risk; with the injection lines removed, the detector
    # (notes/risk.py) must flag each one, indirect phrasings included ("bought a rope, tested the beam").
    flagged = [e["id"] for e in HOSTILE if _needing_ack(_without_injection(e))]
    assert len(HOSTILE) >= 10 and flagged == [e["id"] for e in HOSTILE], flagged


@pytest.mark.parametrize("entry", HOSTILE, ids=[e["id"] for e in HOSTILE])
def test_injected_text_never_removes_a_risk_flag(entry):
    clean = _needing_ack(_without_injection(entry))
    hostile = _needing_ack(entry["text"])
    assert clean <= hostile


@pytest.mark.parametrize("entry", HOSTILE, ids=[e["id"] for e in HOSTILE])
def test_drafted_note_keeps_every_risk_flag(entry):
    clean = _needing_ack(_without_injection(entry))
    draft = draft_note(JobContext(), parse_transcript(entry["text"]), BUILTIN_TEMPLATES["soap"],
                       options=DraftOptions(use_model=False))
    drafted = {r.category for r in draft.risks if r.needs_acknowledgement}
    assert clean <= drafted
