"""Reading a recording into 16 kHz mono float32 samples, with a clear refusal for anything unusable.

Decoding goes through PyAV (FFmpeg's libraries, a faster-whisper dependency), so WAV, MP3,
M4A/AAC, OGG/Vorbis/Opus and FLAC all take the same path. Refusals (:class:`AudioError`):
an empty or non-audio file, a file without an audio stream, one longer than ``max_seconds``
(checked from the header before decoding), one whose decodable audio stops well short of the
duration its header declares (truncated: WAV, FLAC, MP3 with a Xing/LAME header; a cut M4A usually
loses its index and fails to open; a cut OGG cannot be told from a short one), and one with no
sound at all (silent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medstation.errors import UserFacingError

SAMPLE_RATE = 16_000
#: Longest recording accepted by default: four hours (a long group session is three).
MAX_SECONDS = 4 * 3600.0
#: Peak amplitude (full scale 1.0) below which a recording counts as silent: -60 dBFS.
SILENT_PEAK = 1e-3
#: Decoded audio shorter than this share of the header's duration is reported as truncated.
TRUNCATED_SHARE = 0.9
SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".opus", ".oga", ".flac", ".webm")


class AudioError(UserFacingError):
    """The recording cannot be transcribed; nothing was stored."""


@dataclass(frozen=True)
class AudioInfo:
    """What the container says: ``duration_s`` (None when the header has none), codec and channel count."""

    duration_s: float | None
    codec: str
    container: str
    channels: int
    sample_rate: int


def probe(path: Path, *, max_seconds: float = MAX_SECONDS) -> AudioInfo:
    """Header facts of ``path``; raises :class:`AudioError` for empty, non-audio or too-long files."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path} does not exist or is not a file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name} is empty (0 bytes): there is no recording to transcribe.")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                raise AudioError(f"{path.name} holds no audio stream (is it a video without sound, an image or "
                                 "a document?).")
            stream = streams[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            info = AudioInfo(duration, stream.codec_context.name, container.format.name,
                             stream.codec_context.channels or 1, stream.codec_context.sample_rate or 0)
    except av.error.FFmpegError as exc:
        raise AudioError(f"{path.name} cannot be read as a recording (WAV, MP3, M4A/AAC, OGG/Opus, FLAC): it is "
                         f"another kind of file, or damaged or truncated ({exc.strerror or exc}).") from exc
    if info.duration_s is not None and info.duration_s > max_seconds:
        raise AudioError(f"{path.name} lasts {info.duration_s / 3600:.1f} hours; recordings over "
                         f"{max_seconds / 3600:.1f} hours are refused. Split it into sessions first.")
    return info


def wav_missing_bytes(path: Path) -> int:
    """For a RIFF/WAVE file, how many bytes its ``data`` chunk promises beyond the end of the file
    (0 when complete or not a WAV). FFmpeg estimates a WAV's duration from the file size, so a
    cut-off copy looks complete to it; the header's chunk size still tells the truth."""
    import struct

    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        while chunk := fh.read(8):
            if len(chunk) < 8:
                return 0
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"data":
                if size in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                    return 0
                remaining = path.stat().st_size - fh.tell()
                return max(0, size - remaining)
            fh.seek(size + (size & 1), 1)
    return 0


def decode_mono(path: Path) -> np.ndarray:
    """Every decodable sample of ``path``'s first audio stream: float32 mono at :data:`SAMPLE_RATE`, shape
    ``(n,)``, in [-1, 1]. A packet FFmpeg cannot decode is skipped; the rest is kept.

    Our own loop over PyAV rather than ``faster_whisper.audio.decode_audio``: that one ends with a full
    ``gc.collect()``, which runs in the transcription job's thread and can finalise the GUI thread's Qt
    objects caught in reference cycles there; the window then deadlocked (seen in a test run on
    2026-12-07: the GUI thread waiting for the interpreter lock, the job thread inside that collection).
    """
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pieces: list[np.ndarray] = []

    def keep(frames) -> None:
        pieces.extend(frame.to_ndarray().reshape(-1) for frame in frames)

    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                continue  # one damaged packet; a cut file is caught below by its length
            for frame in decoded:
                keep(resampler.resample(frame))
        keep(resampler.resample(None))  # what the resampler still holds
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(pieces).astype(np.float32) / 32768.0


def load_audio(path: Path, *, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, AudioInfo]:
    """``(samples, info)``: float32 mono at :data:`SAMPLE_RATE`, shape ``(n,)``, in [-1, 1]."""
    import av

    path = Path(path)
    info = probe(path, max_seconds=max_seconds)
    missing = wav_missing_bytes(path)
    if missing:
        raise AudioError(f"{path.name} is truncated: {missing:,} bytes of audio its header promises are missing. "
                         "Copy the recording again from the recorder.")
    try:
        samples = decode_mono(path)
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"{path.name} could not be decoded ({exc}); the file may be damaged.") from exc
    samples = np.asarray(samples, dtype=np.float32)
    seconds = samples.size / SAMPLE_RATE
    if samples.size == 0:
        raise AudioError(f"{path.name} holds no decodable audio: it is damaged or truncated.")
    if seconds > max_seconds:
        raise AudioError(f"{path.name} lasts {seconds / 3600:.1f} hours; recordings over "
                         f"{max_seconds / 3600:.1f} hours are refused. Split it into sessions first.")
    if info.duration_s and seconds < TRUNCATED_SHARE * info.duration_s - 1.0:
        raise AudioError(f"{path.name} is truncated: its header promises {info.duration_s:.0f} s but only "
                         f"{seconds:.0f} s can be decoded. Copy the recording again from the recorder.")
    if float(np.max(np.abs(samples))) < SILENT_PEAK:
        raise AudioError(f"{path.name} is silent ({seconds:.0f} s without sound above -60 dBFS): check the "
                         "microphone or the file.")
    return samples, info
