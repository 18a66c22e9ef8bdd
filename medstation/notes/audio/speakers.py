"""Recognised segments, speaker turns and their editing (rename, merge, reassign), text and JSON.

Speaker turns are an honest heuristic, not diarisation: there is no voice model here. A new
turn starts after a pause of at least ``pause_s`` seconds between recognised segments, and
turns alternate between two labels (``Speaker 1``, ``Speaker 2``), which fits a two-person
session where people take turns after a pause. It is wrong whenever someone pauses mid-thought
or two people speak without a gap, so the therapist renames labels, merges two labels into one
and reassigns any turn to the right speaker (:func:`rename_speaker`, :func:`merge_speakers`,
:func:`reassign_turn`). Times are seconds from the start of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Gap between segments (seconds) that starts a new turn with the other label.
DEFAULT_PAUSE_S = 1.5
DEFAULT_LABELS = ("Speaker 1", "Speaker 2")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One recognised stretch: times in seconds, text, words, and the scores the guards looked at."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True)
class Turn:
    """Consecutive segments of one speaker."""

    speaker: str
    segments: tuple[Segment, ...]

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


def cut_at_pauses(seg: Segment, pause_s: float) -> list[Segment]:
    """``seg`` cut wherever two of its words are ``pause_s`` or more apart (Whisper's segments can
    span a pause: voice-activity detection joins nearby speech into one window)."""
    if len(seg.words) < 2:
        return [seg]
    groups: list[list[Word]] = [[seg.words[0]]]
    for word in seg.words[1:]:
        if word.start - groups[-1][-1].end >= pause_s:
            groups.append([])
        groups[-1].append(word)
    if len(groups) == 1:
        return [seg]
    return [Segment(g[0].start, g[-1].end, "".join(w.word for w in g).strip(), tuple(g), seg.avg_logprob,
                    seg.no_speech_prob) for g in groups]


def split_turns(segments: list[Segment] | tuple[Segment, ...], *, pause_s: float = DEFAULT_PAUSE_S,
                labels: tuple[str, str] = DEFAULT_LABELS) -> tuple[Turn, ...]:
    """Turns from segments: a gap >= ``pause_s`` (between segments or between words) switches label."""
    turns: list[Turn] = []
    current: list[Segment] = []
    who = 0
    pieces = [piece for seg in segments for piece in cut_at_pauses(seg, pause_s)]
    for seg in sorted(pieces, key=lambda s: s.start):
        if current and seg.start - current[-1].end >= pause_s:
            turns.append(Turn(labels[who], tuple(current)))
            who, current = 1 - who, []
        current.append(seg)
    if current:
        turns.append(Turn(labels[who], tuple(current)))
    return tuple(turns)


def _join_neighbours(turns: list[Turn]) -> tuple[Turn, ...]:
    """Adjacent turns of the same speaker become one."""
    out: list[Turn] = []
    for turn in turns:
        if out and out[-1].speaker == turn.speaker:
            out[-1] = Turn(turn.speaker, out[-1].segments + turn.segments)
        else:
            out.append(turn)
    return tuple(out)


def speakers(turns: tuple[Turn, ...]) -> list[str]:
    """Labels in order of first appearance."""
    return list(dict.fromkeys(t.speaker for t in turns))


def rename_speaker(turns: tuple[Turn, ...], old: str, new: str) -> tuple[Turn, ...]:
    """Every turn of ``old`` labelled ``new`` (e.g. ``Speaker 1`` -> ``Therapist``); merges if ``new`` exists."""
    new = new.strip()
    if not new:
        raise ValueError("A speaker label cannot be empty.")
    if old not in speakers(turns):
        raise ValueError(f"No speaker called {old!r}.")
    return _join_neighbours([replace(t, speaker=new) if t.speaker == old else t for t in turns])


def merge_speakers(turns: tuple[Turn, ...], keep: str, drop: str) -> tuple[Turn, ...]:
    """``drop``'s turns become ``keep``'s (the split put one person under two labels)."""
    if keep not in speakers(turns):
        raise ValueError(f"No speaker called {keep!r}.")
    return rename_speaker(turns, drop, keep)


def reassign_turn(turns: tuple[Turn, ...], index: int, speaker: str) -> tuple[Turn, ...]:
    """Turn ``index`` (0-based) given to ``speaker``; neighbours of the same speaker join it."""
    if not 0 <= index < len(turns):
        raise IndexError(f"There is no turn {index + 1}.")
    if not speaker.strip():
        raise ValueError("A speaker label cannot be empty.")
    changed = list(turns)
    changed[index] = replace(turns[index], speaker=speaker.strip())
    return _join_neighbours(changed)


def to_text(turns: tuple[Turn, ...]) -> str:
    """One ``[speaker] text`` line per turn (the Notes tab's transcript format)."""
    return "\n".join(f"[{t.speaker}] {t.text}" for t in turns if t.text) + "\n"


def to_json_dict(turns: tuple[Turn, ...], provenance: dict | None = None) -> dict:
    """``{"segments": [{start, end, speaker, text, words: [{start, end, word, probability}]}], "provenance"}``."""
    segments = [{"start": round(seg.start, 3), "end": round(seg.end, 3), "speaker": turn.speaker,
                 "text": seg.text.strip(),
                 "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "word": w.word,
                            "probability": round(w.probability, 4)} for w in seg.words]}
                for turn in turns for seg in turn.segments]
    return {"segments": segments, "provenance": dict(provenance or {})}


def turns_from_json_dict(data: dict) -> tuple[Turn, ...]:
    """Inverse of :func:`to_json_dict` (speakers as stored, consecutive segments of one speaker joined)."""
    turns = []
    for item in data.get("segments", []):
        words = tuple(Word(float(w["start"]), float(w["end"]), str(w["word"]), float(w.get("probability", 0.0)))
                      for w in item.get("words", []))
        seg = Segment(float(item["start"]), float(item["end"]), str(item["text"]), words)
        turns.append(Turn(str(item["speaker"]), (seg,)))
    return _join_neighbours(turns)
