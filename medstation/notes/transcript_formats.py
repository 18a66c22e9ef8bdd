"""Readers for each transcript format; each returns ``[(speaker, text, start_seconds_or_None), ...]``.

Detection looks at the file name first, then at the content (``WEBVTT``
header, SRT cue numbers with ``-->`` times, a JSON bracket, a CSV header naming
speaker and text columns), and falls back to speaker-prefixed plain text.
"""

from __future__ import annotations

import csv
import io
import json
import re

from medstation.errors import UserFacingError

Turn = tuple[str, str, float | None]


class TranscriptError(UserFacingError):
    """The transcript cannot be read; nothing was stored."""


_BRACKET = re.compile(r"^\s*\[([^\]\n]{1,40})\]\s*(.*)$")
# "Therapist: ...", "T: ...", "Dr. Lee: ...", "Client 2: ...", "Zoë: ..." (at most four words before the colon;
# a name starts with a letter of any script).
_COLON = re.compile(r"^\s*([^\W\d_][\w.'’\- ]{0,40}?)\s*:\s+(.*)$")
_LEADING_TIME = re.compile(r"^\s*\(?\[?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]?\)?\s*[-–]?\s*")
_CUE_TIME = re.compile(r"(\d{1,2}:)?(\d{1,2}):(\d{2})[.,](\d{1,3})\s*-->\s*")
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_NOT_SPEAKERS = {"note", "notes", "date", "time", "re", "subject", "http", "https", "eg", "ie", "plan", "goal"}

_SPEAKER_COLUMNS = ("speaker", "role", "participant", "name", "who", "speaker_label", "speaker_name")
_TEXT_COLUMNS = ("text", "utterance", "content", "transcript", "line", "words", "sentence", "message")
_TIME_COLUMNS = ("start", "start_s", "start_time", "time", "timestamp", "begin")


def detect_format(text: str, filename: str = "") -> str:
    """One of ``text``, ``csv``, ``json``, ``vtt``, ``srt``."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("vtt", "srt", "csv", "json"):
        return suffix
    head = text.lstrip()[:2000]
    if head.startswith("WEBVTT"):
        return "vtt"
    if re.match(r"^\d+\s*\n\s*\d{1,2}:\d{2}:\d{2},\d{3}\s*-->", head):
        return "srt"
    if head[:1] in "[{" and not _BRACKET.match(head.splitlines()[0] if head else ""):
        return "json"
    first = head.splitlines()[0].lower() if head else ""
    cells = [c.strip().strip('"') for c in first.split(",")]
    if len(cells) >= 2 and any(c in _SPEAKER_COLUMNS + ("dialogue",) for c in cells) and \
            any(c in _TEXT_COLUMNS + ("dialogue",) for c in cells):
        return "csv"
    return "text"


def parse_text(text: str) -> list[Turn]:
    """Speaker-prefixed lines; an unprefixed line continues the turn before it."""
    turns: list[list] = []
    for raw in text.splitlines():  # every line break: \r\n, \r, a word processor's \v, Unicode's \u2028 ...
        line = _LEADING_TIME.sub("", raw).strip()
        if not line:
            continue
        speaker, words = _split_speaker(line)
        if speaker is None:
            if turns:
                turns[-1][1] += " " + words
            else:
                turns.append(["unknown", words, None])
        else:
            turns.append([speaker, words, None])
    return [(s, w, t) for s, w, t in turns]


def _split_speaker(line: str) -> tuple[str | None, str]:
    m = _BRACKET.match(line)
    if m:
        return m.group(1).strip(), m.group(2)
    m = _COLON.match(line)
    if m and m.group(1).strip().lower() not in _NOT_SPEAKERS and len(m.group(1).split()) <= 4:
        return m.group(1).strip(), m.group(2)
    return None, line


def _cue_seconds(match: re.Match) -> float:
    hours = int(match.group(1)[:-1]) if match.group(1) else 0
    return hours * 3600 + int(match.group(2)) * 60 + int(match.group(3)) + int(match.group(4).ljust(3, "0")) / 1000


def parse_captions(text: str) -> list[Turn]:
    """WebVTT or SRT cues; the voice tag ``<v Name>`` or a ``Name:`` prefix gives the speaker.

    Consecutive cues of one speaker are joined into one turn (captions cut sentences).
    """
    turns: list[list] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        rows = [r for r in block.strip().split("\n") if r.strip()]
        timing = next((i for i, r in enumerate(rows) if "-->" in r), None)
        if timing is None:
            continue  # header, NOTE or STYLE block
        match = _CUE_TIME.search(rows[timing])
        start = _cue_seconds(match) if match else None
        body = " ".join(rows[timing + 1:])
        voice = _VOICE.search(body)
        body = _TAG.sub("", body).strip()
        speaker = voice.group(1).strip() if voice else None
        if speaker is None:
            prefixed, rest = _split_speaker(body)
            if prefixed is not None:
                speaker, body = prefixed, rest
        if not body:
            continue
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1] += " " + body
        else:
            turns.append([speaker or "unknown", body, start])
    return [(s, w, t) for s, w, t in turns]


def _pick(keys, wanted) -> str | None:
    lowered = {k.lower().strip(): k for k in keys if isinstance(k, str)}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _as_float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_csv(text: str) -> list[Turn]:
    """Rows with speaker and text columns (header named as in ``_SPEAKER_COLUMNS``/``_TEXT_COLUMNS``), or a
    ``dialogue`` column (aci-bench / MTS-Dialog export: the first row's dialogue), or two unnamed columns."""
    csv.field_size_limit(10_000_000)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise TranscriptError(f"The CSV file cannot be read: {exc}.") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    if "dialogue" in header:
        return parse_text(rows[1][header.index("dialogue")]) if len(rows) > 1 else []
    speaker_col = next((header.index(c) for c in _SPEAKER_COLUMNS if c in header), None)
    text_col = next((header.index(c) for c in _TEXT_COLUMNS if c in header), None)
    time_col = next((header.index(c) for c in _TIME_COLUMNS if c in header), None)
    body = rows[1:]
    if speaker_col is None or text_col is None:
        if len(rows[0]) < 2:
            raise TranscriptError("The CSV file needs a speaker column and a text column.")
        speaker_col, text_col, time_col, body = 0, 1, None, rows
    out = []
    for row in body:
        if len(row) <= max(speaker_col, text_col):
            continue
        start = _as_float(row[time_col]) if time_col is not None and time_col < len(row) else None
        out.append((row[speaker_col], row[text_col], start))
    return out


def parse_json(text: str) -> list[Turn]:
    """A list of turns (``{"speaker": ..., "text": ...}``), or an object holding one under
    ``turns``/``utterances``/``segments``/``transcript``/``dialogue``; a string value is read as plain text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"The JSON file is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
    except RecursionError as exc:
        raise TranscriptError("The JSON file is nested too deeply to be a transcript (expected a list of turns).") \
            from exc
    if isinstance(data, dict):
        key = _pick(data.keys(), ("turns", "utterances", "segments", "transcript", "dialogue", "lines", "messages"))
        if key is None:
            raise TranscriptError("The JSON file has no list of turns (expected a 'turns' or 'utterances' list).")
        data = data[key]
    if isinstance(data, str):
        return parse_text(data)
    if not isinstance(data, list):
        raise TranscriptError("The JSON file's turns must be a list.")
    out = []
    for item in data:
        if isinstance(item, str):
            out.extend(parse_text(item))
            continue
        if not isinstance(item, dict):
            raise TranscriptError("Each JSON turn must be an object with speaker and text.")
        skey, tkey = _pick(item.keys(), _SPEAKER_COLUMNS), _pick(item.keys(), _TEXT_COLUMNS)
        if tkey is None:
            raise TranscriptError("A JSON turn has no 'text' field.")
        words, speaker = item[tkey], item.get(skey) if skey else None
        if words is None:
            continue  # a silent turn (some exporters write null), never the words "None"
        if not isinstance(words, (str, int, float)) or isinstance(words, bool):
            raise TranscriptError(f"A JSON turn's text must be words, not {type(words).__name__} "
                                  f"({str(words)[:40]}).")
        time_key = _pick(item.keys(), _TIME_COLUMNS)
        out.append((str(speaker) if speaker is not None else "unknown", str(words),
                    _as_float(item.get(time_key)) if time_key else None))
    return out


PARSERS = {"text": parse_text, "csv": parse_csv, "json": parse_json, "vtt": parse_captions, "srt": parse_captions}
