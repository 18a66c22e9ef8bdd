"""Speech-to-transcript pieces that need no recognition: model rebuild, decoding refusals, turns, WER."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from medstation.notes.audio import model as model_mod
from medstation.notes.audio.decode import AudioError, load_audio, probe
from medstation.notes.audio.recognise import compression_ratio, keep_segment
from medstation.notes.audio.speakers import (Segment, Word, cut_at_pauses, merge_speakers, reassign_turn,
                                             rename_speaker, speakers, split_turns, to_json_dict, to_text,
                                             turns_from_json_dict)
from medstation.notes.audio.wer import wer
from medstation.notes.transcript import parse_transcript
from tests.audio_support import HAVE_ESPEAK, HAVE_FFMPEG, RATE, speak, transcode, write_wav


def seg(start, end, text, **kw):
    words = tuple(Word(start + i * (end - start) / len(text.split()), start + (i + 1) * (end - start) / len(text.split()),
                       " " + w, 0.9) for i, w in enumerate(text.split()))
    return Segment(start, end, text, words, **kw)


# --- speaker turns ---------------------------------------------------------------------------------

def test_turns_alternate_at_pauses_and_edits_join_neighbours():
    segs = [seg(0, 2, "How are you"), seg(2.3, 4, "this week"), seg(6, 8, "Not great"), seg(10, 12, "Tell me more")]
    turns = split_turns(segs, pause_s=1.5)
    assert [(t.speaker, t.text) for t in turns] == [
        ("Speaker 1", "How are you this week"), ("Speaker 2", "Not great"), ("Speaker 1", "Tell me more")]
    named = rename_speaker(turns, "Speaker 1", "Therapist")
    assert speakers(named) == ["Therapist", "Speaker 2"]
    # reassigning the middle turn to the therapist leaves one turn: neighbours of one speaker join
    joined = reassign_turn(named, 1, "Therapist")
    assert len(joined) == 1 and joined[0].text == "How are you this week Not great Tell me more"
    merged = merge_speakers(turns, "Speaker 2", "Speaker 1")
    assert speakers(merged) == ["Speaker 2"] and len(merged) == 1
    with pytest.raises(ValueError):
        rename_speaker(turns, "Nobody", "X")
    with pytest.raises(IndexError):
        reassign_turn(turns, 9, "X")


def test_a_segment_spanning_a_pause_is_cut_at_its_words():
    words = (Word(0, 0.5, " I", 0.9), Word(0.5, 1.0, " agree.", 0.9), Word(3.0, 3.4, " Good.", 0.9))
    pieces = cut_at_pauses(Segment(0, 3.4, "I agree. Good.", words), 1.5)
    assert [p.text for p in pieces] == ["I agree.", "Good."]
    assert [t.speaker for t in split_turns([Segment(0, 3.4, "I agree. Good.", words)])] == ["Speaker 1", "Speaker 2"]


def test_text_and_json_outputs_round_trip_and_import_as_a_transcript():
    turns = rename_speaker(split_turns([seg(0, 2, "Hello there"), seg(5, 6, "Hi")]), "Speaker 1", "Therapist")
    text = to_text(turns)
    assert text == "[Therapist] Hello there\n[Speaker 2] Hi\n"
    data = to_json_dict(turns, {"model": "whisper-base"})
    assert set(data["segments"][0]) == {"start", "end", "speaker", "text", "words"}
    assert data["segments"][0]["words"][0]["word"] == " Hello"
    back = turns_from_json_dict(json.loads(json.dumps(data)))
    assert to_text(back) == text
    # the Notes tab reads both outputs with its existing transcript parser
    assert [line.speaker for line in parse_transcript(text, "t.txt").lines] == ["Therapist", "Speaker 2"]
    assert parse_transcript(json.dumps(data), "t.json").lines[1].text == "Hi"


# --- guards and WER --------------------------------------------------------------------------------

def test_guards_drop_improbable_silent_and_looping_segments():
    assert keep_segment(seg(0, 1, "I slept badly."), None)
    assert not keep_segment(seg(0, 1, "Thank you.", avg_logprob=-1.3), None)
    assert not keep_segment(seg(0, 1, "Thank you.", no_speech_prob=0.8), None)
    loop = "I don't know. " * 12
    assert compression_ratio(loop) > 2.4 and not keep_segment(seg(0, 9, loop), None)
    assert not keep_segment(seg(1, 2, "Thank you."), seg(0, 1, "thank you."))


def test_wer_counts_substitutions_deletions_and_insertions():
    assert wer("The cat sat.", "the cat sat") == 0.0
    assert wer("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert wer("a b c d", "a x c d e") == pytest.approx(2 / 4)
    assert wer("", "") == 0.0 and wer("", "hello") == 1.0


# --- the bundled model -----------------------------------------------------------------------------

def test_bundled_model_is_rebuilt_checked_and_a_damaged_copy_is_replaced(tmp_path):
    folder = model_mod.bundled_model_dir(tmp_path)
    assert (folder / "model.bin").stat().st_size == model_mod.BUNDLED_BYTES
    assert model_mod.file_sha256(folder / "model.bin") == model_mod.BUNDLED_SHA256
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    with open(folder / "model.bin", "r+b") as fh:  # flip one byte: same size, wrong checksum
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    model_mod.bundled_model_dir(tmp_path)
    assert model_mod.file_sha256(folder / "model.bin") == model_mod.BUNDLED_SHA256


def test_a_wrong_checksum_is_refused_and_leaves_no_model(tmp_path, monkeypatch):
    monkeypatch.setattr(model_mod, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(model_mod.ModelUnavailable, match="checksum"):
        model_mod.bundled_model_dir(tmp_path)
    assert not any(p.name.startswith("model.bin") for p in (tmp_path / "whisper" / "whisper-base").iterdir())


def test_user_models_are_found_by_folder_name_and_unknown_names_listed(tmp_path):
    mine = tmp_path / "models" / "whisper-small-ct2"
    mine.mkdir(parents=True)
    (mine / "model.bin").write_bytes(b"x")
    (mine / "config.json").write_text("{}")
    (tmp_path / "models" / "notes.txt").write_text("not a model")
    chosen = model_mod.resolve_model("whisper-small-ct2", cache_dir=tmp_path / "cache", search_dirs=[tmp_path / "models"])
    assert chosen.path == mine and chosen.sha256 == model_mod.file_sha256(mine / "model.bin")
    with pytest.raises(model_mod.ModelUnavailable, match="whisper-small-ct2"):
        model_mod.resolve_model("large", cache_dir=tmp_path / "cache", search_dirs=[tmp_path / "models"])
    with pytest.raises(model_mod.ModelUnavailable, match="cannot be loaded"):
        model_mod.load_whisper(chosen)


# --- decoding and refusals -------------------------------------------------------------------------

def tone(seconds=2.0, amplitude=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_refusals_name_the_problem(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load_audio(empty)
    text = tmp_path / "notes.mp3"
    text.write_text("[Therapist] this is a transcript, not audio\n" * 50)
    with pytest.raises(AudioError, match="cannot be read as a recording|no audio"):
        load_audio(text)
    silent = write_wav(tmp_path / "silent.wav", np.zeros(RATE * 3, np.float32))
    with pytest.raises(AudioError, match="silent"):
        load_audio(silent)
    long = write_wav(tmp_path / "long.wav", tone(5.0))
    with pytest.raises(AudioError, match="hours are refused"):
        probe(long, max_seconds=3.0)
    full = write_wav(tmp_path / "full.wav", tone(10.0))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: os.path.getsize(full) // 3])  # header still promises 10 s
    with pytest.raises(AudioError, match="truncated"):
        load_audio(cut)
    with pytest.raises(AudioError, match="does not exist"):
        load_audio(tmp_path / "missing.wav")


@pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg (Debian) is installed by scripts/setup.sh")
@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".ogg", ".opus", ".flac"])
def test_every_accepted_format_decodes_to_16k_mono(tmp_path, suffix):
    wav = write_wav(tmp_path / "tone.wav", tone(3.0))
    samples, info = load_audio(transcode(wav, tmp_path / f"tone{suffix}"))
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / RATE - 3.0) < 0.15, info
    assert 0.2 < np.abs(samples).max() < 0.45


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng (Debian) is installed by scripts/setup.sh")
def test_espeak_support_makes_speech():
    assert speak("hello", "en-us").size > RATE // 4


# --- storing with provenance -----------------------------------------------------------------------

def test_recording_transcript_is_stored_with_its_provenance_and_keeps_it_through_a_swap(settings, db):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.service import NotesService

    service = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    sess = service.create_session(service.create_client("C-9").id, "2026-12-06")
    turns = rename_speaker(split_turns([seg(0, 3, "How did the week go"), seg(6, 9, "I slept badly most nights")]),
                           "Speaker 1", "Therapist")
    provenance = {"file_sha256": "ab" * 32, "model": "whisper-base", "language": "en", "duration_s": 9.0}
    info = service.import_recording_transcript(sess.id, to_text(turns), "session.m4a", provenance)
    assert info.source_format == "audio" and info.source_name == "session.m4a"
    assert service.transcript_recording(info.id) == provenance
    swapped = service.swap_speakers(sess.id)
    assert service.transcript_recording(swapped.id) == provenance
    note = service.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    assert note.id  # a note drafts from it; its revision records the transcript version (transcript_id)
    typed = service.import_transcript(sess.id, b"Therapist: hello\nClient: hi\n", "t.txt")
    assert service.transcript_recording(typed.id) == {}


@pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg (Debian) is installed by scripts/setup.sh")
@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".m4a"])
def test_a_cut_off_compressed_recording_is_refused(tmp_path, suffix):
    full = transcode(write_wav(tmp_path / "tone.wav", tone(20.0)), tmp_path / f"tone{suffix}")
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    with pytest.raises(AudioError, match="truncated"):
        load_audio(cut)
