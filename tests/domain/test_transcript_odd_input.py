"""Transcripts as therapists actually paste and export them: names with accents, invisible characters from
word processors and web pages, Unicode line breaks, control characters, and JSON that is deep, null or odd.

Every test here failed on commit 7d7286b (helper "breaknotes"): a client named "Zoë:" was read as part of the
therapist's turn (so her words were the therapist's), a zero-width space before "Therapist:" merged the whole
paste into one unknown speaker, a deeply nested JSON file raised RecursionError (a bug dialog, not a message),
and a JSON turn with ``"text": null`` was imported as the client saying "None".
"""

from __future__ import annotations

import pytest

from medstation.notes.transcript import SpeakerRole, parse_transcript
from medstation.notes.transcript_formats import TranscriptError


@pytest.mark.parametrize("name", ["Zoë", "José", "Renée Dubois", "Ngozi Ọkafor", "Søren", "Łucja", "李明",
                                  "Ms. Ñúñez", "Anaïs-Marie",
                                  "Guest_family"])  # MTS-Dialog writes a relative as "Guest_family:"
def test_a_speaker_named_with_letters_beyond_ascii_starts_their_own_turn(name):
    t = parse_transcript(f"Therapist: How was your week?\n{name}: I have not been sleeping.\n"
                         "Therapist: Tell me more.", "pasted.txt")
    assert [(line.speaker, line.text) for line in t.lines] == [
        ("Therapist", "How was your week?"), (name, "I have not been sleeping."), ("Therapist", "Tell me more.")]
    assert t.lines[0].role is SpeakerRole.clinician and t.lines[1].role is not SpeakerRole.clinician


@pytest.mark.parametrize("junk", ["\u200b", "\ufeff", "\u2060", "\u200b\u200b", "\ufeff\u200b"])
def test_invisible_characters_before_a_speaker_label_do_not_hide_it(junk):
    t = parse_transcript(f"{junk}Therapist: How are you?\n{junk}Client: Tired{junk}, mostly.\n", "pasted.txt")
    assert [(line.speaker, line.role, line.text) for line in t.lines] == [
        ("Therapist", SpeakerRole.clinician, "How are you?"), ("Client", SpeakerRole.client, "Tired, mostly.")]


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c"])
def test_unicode_and_word_processor_line_breaks_separate_turns(brk):
    t = parse_transcript(f"Therapist: How are you?{brk}Client: Tired.{brk}Therapist: Since when?", "pasted.txt")
    assert [line.speaker for line in t.lines] == ["Therapist", "Client", "Therapist"]


def test_pasted_control_characters_never_reach_the_stored_words():
    t = parse_transcript("Therapist: How are\x00 you?\nClient: Tired\x07.\x1b\n", "pasted.txt")
    assert [line.text for line in t.lines] == ["How are you?", "Tired."]


def test_a_lone_surrogate_in_pasted_text_gets_a_clear_message():
    with pytest.raises(TranscriptError, match="cannot be stored"):
        parse_transcript("Therapist: hi\ud800\nClient: ok", "pasted.txt")


def test_deeply_nested_json_gets_a_clear_message():
    with pytest.raises(TranscriptError, match="JSON"):
        parse_transcript(("[" * 100_000 + "]" * 100_000).encode(), "export.json")


def test_json_null_text_is_silence_and_null_speaker_is_unknown():
    t = parse_transcript(b'[{"speaker": "Therapist", "text": "How are you?"}, {"speaker": "Client", "text": null},'
                         b' {"speaker": null, "text": "Tired."}]', "export.json")
    assert [(line.speaker, line.text) for line in t.lines] == [("Therapist", "How are you?"), ("unknown", "Tired.")]


def test_json_turn_whose_text_is_not_words_gets_a_clear_message():
    with pytest.raises(TranscriptError, match="text"):
        parse_transcript(b'[{"speaker": "Client", "text": {"words": ["a", "b"]}}]', "export.json")


def test_ordinary_lines_with_a_colon_still_continue_the_turn():
    t = parse_transcript("Client: I wrote a list\nNote: she read it aloud\nTherapist: Good.", "pasted.txt")
    assert [line.speaker for line in t.lines] == ["Client", "Therapist"]
