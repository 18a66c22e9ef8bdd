"""The transcription job: ``transcribe(ctx, path, model, ...) -> RecordingTranscript``.

Guards against Whisper's known failures on silence and long audio:

* Silero voice-activity detection (bundled with faster-whisper) removes silence before decoding;
* ``condition_on_previous_text=False`` so one hallucination cannot seed the next window;
* repetition: faster-whisper re-decodes a window whose gzip compression ratio exceeds 2.4, and
  :func:`keep_segment` then drops any segment still that repetitive or identical to the one before;
* a segment is dropped when its mean token log-probability is below -1.0 OR its no-speech
  probability is above 0.6 (Whisper's own default thresholds, not tuned on our test audio);
* ``hallucination_silence_threshold`` skips silent stretches around a suspected hallucination.

Word timestamps are kept. Each kept segment goes to ``ctx.partial`` as it is decoded; progress
is the decoded time over the recording's length; ``ctx.check()`` runs between segments.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from medstation.fileio import file_sha256
from medstation.notes.audio.decode import MAX_SECONDS, SAMPLE_RATE, AudioError, load_audio
from medstation.notes.audio.model import SpeechModel, load_whisper
from medstation.notes.audio.speakers import DEFAULT_PAUSE_S, Segment, Turn, Word, split_turns

MIN_AVG_LOGPROB = -1.0
MAX_NO_SPEECH_PROB = 0.6
MAX_COMPRESSION_RATIO = 2.4


@dataclass(frozen=True)
class RecordingTranscript:
    """Speaker turns of one recording and where they came from (``provenance``: JSON-ready dict)."""

    turns: tuple[Turn, ...]
    provenance: dict = field(default_factory=dict)
    dropped: int = 0  # segments the guards removed


def compression_ratio(text: str) -> float:
    """Bytes over gzip bytes: about 1-1.8 for speech, above 2.4 for a looping hallucination."""
    data = text.encode("utf-8")
    return len(data) / max(1, len(gzip.compress(data)))


def keep_segment(seg: Segment, previous: Segment | None) -> bool:
    """False for an empty, repetitive, improbable or probably-silent segment."""
    text = seg.text.strip()
    if not text:
        return False
    if seg.avg_logprob < MIN_AVG_LOGPROB or seg.no_speech_prob > MAX_NO_SPEECH_PROB:
        return False
    if len(text) > 20 and compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return False
    return not (previous is not None and previous.text.strip().lower() == text.lower())


def _segment(raw) -> Segment:
    words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (raw.words or ()))
    return Segment(float(raw.start), float(raw.end), raw.text.strip(), words, float(raw.avg_logprob),
                   float(raw.no_speech_prob))


def transcribe(ctx, path: Path, model: SpeechModel, *, language: str | None = None, threads: int = 2,
               pause_s: float = DEFAULT_PAUSE_S, max_seconds: float = MAX_SECONDS,
               beam_size: int = 5, whisper=None) -> RecordingTranscript:
    """Job: decode ``path``, recognise it with ``model`` and split speaker turns.

    ``whisper``: an already loaded ``WhisperModel`` to reuse (the GUI keeps one); else loaded here.
    Raises :class:`AudioError` for unusable input or a recording in which nothing was recognised.
    """
    import faster_whisper

    path = Path(path)
    started = time.perf_counter()
    ctx.report(0.0, f"Reading {path.name}")
    samples, info = load_audio(path, max_seconds=max_seconds)
    duration = samples.size / SAMPLE_RATE
    ctx.check()
    if whisper is None:
        ctx.report(0.02, f"Loading the speech model {model.name}")
        whisper = load_whisper(model, threads=threads)
    ctx.check()
    raw_segments, lang = whisper.transcribe(
        samples, language=language, beam_size=beam_size, vad_filter=True, condition_on_previous_text=False,
        # VAD cuts at pauses shorter than a speaker-turn pause, so no decoded window spans a turn change
        vad_parameters={"min_silence_duration_ms": int(1000 * min(pause_s, 2.0) * 2 / 3)},
        word_timestamps=True, compression_ratio_threshold=MAX_COMPRESSION_RATIO,
        log_prob_threshold=MIN_AVG_LOGPROB, no_speech_threshold=MAX_NO_SPEECH_PROB,
        hallucination_silence_threshold=2.0)
    kept: list[Segment] = []
    dropped = 0
    for raw in raw_segments:  # a generator: decoding happens as we iterate
        ctx.check()
        seg = _segment(raw)
        if keep_segment(seg, kept[-1] if kept else None):
            kept.append(seg)
            ctx.partial(seg)
        else:
            dropped += 1
        ctx.report(0.05 + 0.93 * min(1.0, seg.end / max(duration, 1e-6)),
                   f"Transcribed {seg.end / 60:.1f} of {duration / 60:.1f} min")
    if not kept:
        raise AudioError(f"No speech was recognised in {path.name} ({duration:.0f} s); nothing was stored.")
    turns = split_turns(kept, pause_s=pause_s)
    elapsed = time.perf_counter() - started
    provenance = {
        "kind": "speech_recognition", "file_name": path.name, "file_sha256": file_sha256(path),
        "file_bytes": path.stat().st_size, "codec": info.codec, "container": info.container,
        "duration_s": round(duration, 2), "model": model.name, "model_sha256": model.sha256,
        "engine": f"faster-whisper {faster_whisper.__version__}, CTranslate2 int8 CPU",
        "language": lang.language, "language_probability": round(float(lang.language_probability), 3),
        "transcribed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 2), "real_time_factor": round(elapsed / max(duration, 1e-6), 3),
        "segments_kept": len(kept), "segments_dropped": dropped, "speaker_split": f"pauses >= {pause_s} s",
        "guards": {"vad": True, "condition_on_previous_text": False, "min_avg_logprob": MIN_AVG_LOGPROB,
                   "max_no_speech_prob": MAX_NO_SPEECH_PROB, "max_compression_ratio": MAX_COMPRESSION_RATIO},
    }
    ctx.report(1.0, f"Transcribed {len(turns)} turns")
    return RecordingTranscript(turns, provenance, dropped)
