"""Decoding a recording in a job's thread must not run a full garbage collection there.

A full ``gc.collect()`` in a worker thread finalises whatever cyclic garbage exists, including the GUI
thread's Qt objects; in a test run on 2026-12-07 the window deadlocked that way mid-transcription
(``faster_whisper.audio.decode_audio`` ends with one). The samples must stay what Whisper was given before.
"""

from __future__ import annotations

import gc
import threading

import numpy as np

from medstation.notes.audio.decode import SAMPLE_RATE, load_audio
from tests.audio_support import write_wav


def _stereo_wav(path, seconds=4.2, rate=44_100):
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t))
    return write_wav(path, np.stack([tone, 0.5 * tone], axis=1), rate=rate)


def test_load_audio_collects_no_garbage_in_its_thread(tmp_path, monkeypatch):
    path = _stereo_wav(tmp_path / "stereo44k.wav")
    collected_in: list[str] = []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: (collected_in.append(threading.current_thread().name),
                                                   real_collect(*a))[1])
    got: dict = {}
    worker = threading.Thread(target=lambda: got.update(result=load_audio(path)), name="job-thread")
    worker.start()
    worker.join(60)
    samples, info = got["result"]
    assert collected_in == []
    assert info.channels == 2 and info.sample_rate == 44_100
    assert samples.dtype == np.float32 and abs(samples.size - 4.2 * SAMPLE_RATE) <= 1


def test_samples_are_what_faster_whisper_decoded(tmp_path):
    from faster_whisper.audio import decode_audio

    path = _stereo_wav(tmp_path / "stereo44k.wav", seconds=3.1)
    ours, _ = load_audio(path)
    theirs = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    assert ours.shape == theirs.shape
    assert float(np.max(np.abs(ours - theirs))) < 1e-4
