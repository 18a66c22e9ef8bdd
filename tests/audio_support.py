"""Synthetic session recordings for the transcription tests and benchmark (espeak-ng + numpy).

A recording is a list of ``(voice, sentence)`` turns joined by stretches of silence (or quiet
noise) whose times are returned, so tests know exactly which stretches hold no speech.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
HAVE_ESPEAK = shutil.which("espeak-ng") is not None
HAVE_FFMPEG = shutil.which("ffmpeg") is not None

# Two voices so the recording sounds like two people (espeak-ng's stock English voices).
VOICES = ("en-us", "en-gb+f3")


@dataclass(frozen=True)
class Recording:
    path: Path
    reference: str                         # every spoken sentence, in order
    silences: tuple[tuple[float, float], ...]  # (start_s, end_s) of each speech-free stretch
    duration_s: float


def speak(text: str, voice: str, *, speed: int = 160) -> np.ndarray:
    """espeak-ng's rendering of ``text``: float32 mono at :data:`RATE`, shape ``(n,)``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True,
                       capture_output=True)
        with wave.open(str(out)) as w:
            rate, data = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    samples = data.astype(np.float32) / 32768.0
    # espeak-ng writes 22.05 kHz; linear resampling is plenty for a recogniser that works at 16 kHz.
    t_out = np.arange(int(len(samples) * RATE / rate)) / RATE
    return np.interp(t_out, np.arange(len(samples)) / rate, samples).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """16-bit PCM WAV of ``samples`` in [-1, 1]: shape ``(n,)`` mono or ``(n, channels)``."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def build_recording(path: Path, turns: list[tuple[int, str]], gaps_s: list[float], *,
                    noise_dbfs: float | None = None, seed: int = 0) -> Recording:
    """Turn ``i`` is spoken by voice ``turns[i][0]``; ``gaps_s[i]`` seconds of silence follow it.

    ``noise_dbfs``: fill everything with white noise at this RMS level (e.g. -55), so the silences
    are room tone rather than digital zero (harder for the recogniser).
    """
    rng = np.random.default_rng(seed)
    pieces, silences, t = [np.zeros(int(0.5 * RATE), np.float32)], [], 0.5
    for (voice, sentence), gap in zip(turns, gaps_s, strict=True):
        speech = speak(sentence, VOICES[voice])
        pieces.append(speech)
        t += len(speech) / RATE
        if gap > 0:
            pieces.append(np.zeros(int(gap * RATE), np.float32))
            silences.append((t, t + gap))
            t += gap
    samples = np.concatenate(pieces)
    if noise_dbfs is not None:
        samples = samples + rng.normal(0, 10 ** (noise_dbfs / 20), samples.size).astype(np.float32)
    write_wav(path, samples)
    return Recording(path, " ".join(s for _, s in turns), tuple(silences), samples.size / RATE)


def transcode(src: Path, dst: Path) -> Path:
    """``src`` re-encoded by ffmpeg into the format ``dst``'s suffix names (mp3, m4a, ogg, opus, flac)."""
    codec = {".mp3": ["-c:a", "libmp3lame"], ".m4a": ["-c:a", "aac"], ".ogg": ["-c:a", "libvorbis"],
             ".opus": ["-c:a", "libopus"], ".flac": ["-c:a", "flac"]}[dst.suffix]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *codec, str(dst)], check=True,
                   capture_output=True)
    return dst
