"""One transcript unit -> one note sentence in clinical voice, checked, with its evidence lines.

:mod:`medstation.notes.voice` writes the sentence deterministically; this module names the drug an
orphan "it" stands for, runs :func:`medstation.notes.rewrite.check_rewrite` on the transformation
(the same check a model rewrite must pass) and, when the check refuses, keeps the cleaned transcript
sentence verbatim in quotes, attributed to its speaker. Either way the sentence keeps the unit's
evidence lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.notes import rewrite, voice
from medstation.notes.draft import DraftSentence, SentenceOrigin
from medstation.notes.evidence import Unit
from medstation.notes.facts import TranscriptFacts, is_medication
from medstation.notes.transcript import SpeakerRole, Transcript, split_sentences

#: Lines before a sentence searched for the drug an orphan "it" refers to.
IT_CONTEXT_LINES = 4


def _context(unit: Unit, transcript: Transcript) -> list[tuple[int, str]]:
    """``(line, sentence)`` said before ``unit``: earlier lines (at most :data:`IT_CONTEXT_LINES`), then its own line's."""
    lines = transcript.lines[max(0, unit.line - 1 - IT_CONTEXT_LINES): unit.line - 1]
    out = [(line.number, s) for line in lines for s in split_sentences(line.text)]
    return out + [(unit.line, s) for s in split_sentences(transcript.line(unit.line).text)[: unit.index // 8]]


def _client_noun(transcript: Transcript) -> str:
    """"patient" when the transcript labels the client so, else "client"."""
    label = next((line.speaker for line in transcript.lines if line.role is SpeakerRole.client), "client")
    return voice.role_noun(label, SpeakerRole.client).lower()


def _clinician_noun(transcript: Transcript) -> str:
    """"doctor", "nurse" or "therapist", from how the transcript labels the clinician."""
    label = next((line.speaker for line in transcript.lines if line.role is SpeakerRole.clinician), "therapist")
    return voice.role_noun(label, SpeakerRole.clinician).lower()


_MALE = re.compile(r"(?i)\b(?:\d+|[a-z]+(?:-[a-z]+)?)[- ]year[- ]old (?:male|man|gentleman|boy|guy)\b|\bmr\.? [a-z]")
_FEMALE = re.compile(r"(?i)\b(?:\d+|[a-z]+(?:-[a-z]+)?)[- ]year[- ]old (?:female|woman|lady|girl)\b|"
                     r"\b(?:mrs|ms|miss)\.? [a-z]")


def client_pronouns(transcript: Transcript) -> str:
    """"he"/"she" only when a clinician's words state it once and without contradiction ("a 58-year-old
    male", "Mrs. Lee"); otherwise "they"."""
    said = " ".join(line.text for line in transcript.lines if line.role is SpeakerRole.clinician)
    male, female = bool(_MALE.search(said)), bool(_FEMALE.search(said))
    return "he" if male and not female else "she" if female and not male else "they"


@dataclass(frozen=True)
class Candidate:
    """A clinical-voice form of a unit: ``text``; ``source``: what it is checked against; ``evidence``:
    lines it rests on beyond the unit's (where the drug an "it" stands for was named, the client's "okay")."""

    text: str
    source: str
    evidence: tuple[int, ...] = ()


def candidates(unit: Unit, transcript: Transcript) -> list[Candidate]:
    """Clinical-voice forms of ``unit``, preferred first.

    An orphan "it" is named as its drug first: that form is checked against the sentence with the drug
    put in (a documented, deterministic resolution) and rests on the line that named the drug too.
    """
    line = transcript.line(unit.line)
    noun = voice.role_noun(line.speaker, unit.role)
    pronouns = client_pronouns(transcript)
    said = unit.answer if unit.question_line else unit.text
    context = _context(unit, transcript)
    drug = voice.drug_for_it(said, [s for _, s in context], is_medication)
    variants = [(said, unit.text, ())]
    if drug:
        named_at = next(n for n, s in reversed(context) if drug in s.lower())
        resolved = voice.name_the_drug(said, drug)
        source = voice.name_the_drug(unit.text, drug) if not unit.question_line else unit.text
        variants.insert(0, (resolved, source, (named_at,) if named_at != unit.line else ()))
    out: list[Candidate] = []
    for text, source, extra in variants:
        checked_against = voice.spell_out(source)
        if unit.question_line:
            out.append(Candidate(voice.answer_reported(unit.question, text, noun, _clinician_noun(transcript),
                                                       pronouns), checked_against, extra))
        elif unit.role is SpeakerRole.clinician:
            following = transcript.lines[unit.line] if unit.line < len(transcript.lines) else None
            agreed = following is not None and following.role is SpeakerRole.client and voice.agreement(following.text)
            forms = [(True, (following.number,))] if agreed else []
            for with_agreement, more in forms + [(False, ())]:
                out.append(Candidate(voice.clinician_item(text, client_agreed=with_agreement,
                                                          client=_client_noun(transcript),
                                                          clinician=_clinician_noun(transcript), pronouns=pronouns),
                                     checked_against, extra + more))
        elif unit.role is SpeakerRole.client:
            out += [Candidate(c, checked_against, extra)
                    for c in voice.client_candidates(text, noun, _clinician_noun(transcript), pronouns)]
    seen: set[str] = set()
    return [c for c in out if not (c.text in seen or seen.add(c.text))]


def _verbatim(unit: Unit, transcript: Transcript) -> str:
    """The unit's words verbatim, each part attributed to who said it (a question to the clinician)."""
    noun = voice.role_noun(transcript.line(unit.line).speaker, unit.role)
    if unit.question_line:
        asked = voice.role_noun(transcript.line(unit.question_line).speaker, SpeakerRole.clinician)
        return f"{asked}: \"{unit.question}?\" {noun}: \"{unit.answer.rstrip('.')}.\""
    if unit.role is SpeakerRole.clinician:
        return unit.text  # the clinician is the note's author: their sentence stands in their own voice
    return voice.quoted(unit.text, noun)


def voiced_sentence(unit: Unit, transcript: Transcript, facts: TranscriptFacts) -> DraftSentence:
    """The checked note sentence of ``unit``: the first clinical-voice form ``check_rewrite`` accepts
    (compared with the transcript sentence, contractions spelled out on both sides), else the words
    verbatim and attributed. An unchanged sentence (nothing to transform) stands as it is."""
    if unit.role is SpeakerRole.other:
        return DraftSentence(unit.text, unit.evidence, SentenceOrigin.extract, source_text=unit.text)
    plain = {voice.spell_out(unit.text).rstrip(".").lower(), unit.text.rstrip(".").lower()}
    for candidate in candidates(unit, transcript):
        if candidate.text.rstrip(".").lower() in plain:
            return DraftSentence(unit.text, unit.evidence, SentenceOrigin.extract, source_text=unit.text)
        check = rewrite.check_rewrite(candidate.source, candidate.text, facts)
        if check.ok:
            evidence = tuple(sorted(set(unit.evidence + candidate.evidence)))
            return DraftSentence(check.text, evidence, SentenceOrigin.reported, source_text=unit.text)
    return DraftSentence(_verbatim(unit, transcript), unit.evidence, SentenceOrigin.extract, source_text=unit.text)
