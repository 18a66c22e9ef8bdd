"""A session transcript: numbered speaker turns, parsed from what clinics actually have.

Shapes: a :class:`Transcript` is a tuple of :class:`Line` numbered from 1 in
reading order; every drafted sentence points back at these numbers. Each line
has the speaker label as written (``doctor``, ``Therapist``, ``T``) and a
:class:`SpeakerRole` derived from it. Speech recognition often swaps the two
speakers, so :meth:`Transcript.with_roles_swapped` flips clinician and client
without touching the words.

Input formats (:func:`parse_transcript`): plain text with speaker prefixes
(``[doctor] ...``, ``Therapist: ...``, ``T: ...``), CSV with speaker/text
columns, JSON (a list of turns or ``{"turns": [...]}``), WebVTT and SRT
captions. Empty, binary, enormous or undecodable input raises
:class:`TranscriptError` with a sentence the user can act on.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from medstation.notes import transcript_formats as fmt
from medstation.notes.transcript_formats import TranscriptError

#: Largest transcript accepted, in bytes: a 3-hour session is about 200 kB of text.
MAX_BYTES = 5_000_000
#: Most turns accepted (a 3-hour session has a few thousand).
MAX_LINES = 20_000


class SpeakerRole(str, enum.Enum):
    clinician = "clinician"
    client = "client"
    other = "other"


_CLINICIAN_LABELS = {"doctor", "dr", "therapist", "t", "clinician", "counselor", "counsellor", "provider",
                     "physician", "psychologist", "psychiatrist", "nurse", "np", "pa", "interviewer", "th",
                     "social worker", "clinician 1"}
_CLIENT_LABELS = {"patient", "client", "c", "p", "pt", "cl", "member", "interviewee", "patient 1", "client 1"}


def role_for_label(label: str) -> SpeakerRole:
    """Clinician / client / other from a speaker label as written (case and punctuation ignored)."""
    key = re.sub(r"[^a-z0-9 ]", "", label.lower()).strip()
    if key in _CLINICIAN_LABELS or key.startswith(("dr ", "doctor ", "therapist ")):
        return SpeakerRole.clinician
    if key in _CLIENT_LABELS or key.startswith(("patient ", "client ")):
        return SpeakerRole.client
    return SpeakerRole.other


@dataclass(frozen=True)
class Line:
    """One speaker turn. ``number`` is 1-based; ``start_s`` is the caption time in seconds, if any."""

    number: int
    speaker: str
    role: SpeakerRole
    text: str
    start_s: float | None = None


_SWAP = {SpeakerRole.clinician: SpeakerRole.client, SpeakerRole.client: SpeakerRole.clinician,
         SpeakerRole.other: SpeakerRole.other}


@dataclass(frozen=True)
class Transcript:
    """Numbered turns plus where they came from (``source_format``: text, csv, json, vtt, srt)."""

    lines: tuple[Line, ...]
    source_format: str = "text"
    roles_swapped: bool = False

    def line(self, number: int) -> Line:
        return self.lines[number - 1]

    @property
    def word_count(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)

    def to_text(self) -> str:
        """Canonical plain text, one ``[speaker] text`` per line: what is stored and hashed."""
        return "\n".join(f"[{line.speaker}] {line.text}" for line in self.lines)

    def full_text(self) -> str:
        """The words only, for fact checks."""
        return "\n".join(line.text for line in self.lines)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_text().encode("utf-8")).hexdigest()

    def with_roles_swapped(self) -> "Transcript":
        """Clinician and client exchanged on every line (speech recognition swapped them)."""
        lines = tuple(replace(line, role=_SWAP[line.role]) for line in self.lines)
        return Transcript(lines, self.source_format, not self.roles_swapped)

    def roles_look_swapped(self) -> bool:
        """True when the "client" asks most of the questions: a hint that the labels are swapped."""
        asks = {SpeakerRole.clinician: 0, SpeakerRole.client: 0}
        for line in self.lines:
            if line.role in asks:
                asks[line.role] += line.text.count("?")
        return asks[SpeakerRole.client] > 2 * max(1, asks[SpeakerRole.clinician])


def _too_big(name: str, size: int) -> TranscriptError:
    return TranscriptError(f"{name} is {size / 1e6:.1f} MB; transcripts over {MAX_BYTES / 1e6:.0f} MB are refused "
                           "(is it a recording rather than a transcript?).")


def read_transcript_file(path: Path) -> bytes:
    """The bytes of the transcript file at ``path``; a file over :data:`MAX_BYTES` is refused from its size,
    unread (a video picked by mistake is gigabytes). Unreadable files raise :class:`TranscriptError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _too_big(path.name, size)
        return path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path.name} cannot be read ({exc.strerror or exc}).") from exc


def decode_bytes(data: bytes, name: str = "the file") -> str:
    """Text of ``data`` (UTF-8, UTF-8 with BOM, or UTF-16 with BOM); refuses binary and enormous input."""
    if not data or not data.strip():
        raise TranscriptError(f"{name} is empty: there is no transcript to import.")
    if len(data) > MAX_BYTES:
        raise _too_big(name, len(data))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TranscriptError(f"{name} claims to be UTF-16 but cannot be decoded ({exc.reason}).") from exc
    if b"\x00" in data[:65536]:
        raise TranscriptError(f"{name} looks like a binary file (audio, video or a document), not a text transcript. "
                              "Export the transcript as .txt, .vtt, .srt, .csv or .json.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{name} is not UTF-8 text (byte {exc.start} cannot be decoded). "
                              "Save it as UTF-8 and import it again.") from exc
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t")
    if controls > max(8, len(text[:65536]) // 100):
        raise TranscriptError(f"{name} holds control characters throughout: it looks binary, not a transcript.")
    return text


#: Characters that carry no words: zero-width spaces and word joiners (web pages and word processors put them
#: before names), byte-order marks pasted mid-text, and control characters other than tabs and line breaks
#: (a NUL cannot even be stored by PostgreSQL). Removed before parsing, so a label behind them is still read.
_WORDLESS = re.compile("[\u200b\u2060\ufeff\x00-\x08\x0e-\x1f\x7f]")


def parse_transcript(data: bytes | str, filename: str = "") -> Transcript:
    """Parse ``data`` in the format its name or content says; raises :class:`TranscriptError`."""
    name = filename or "the transcript"
    text = decode_bytes(data, name) if isinstance(data, bytes) else data
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: half of a character, from a broken copy
        raise TranscriptError(f"{name} holds a broken character (at position {exc.start}) that cannot be stored; "
                              "copy the transcript again, or import it as a file.") from exc
    text = _WORDLESS.sub("", text)
    if not text.strip():
        raise TranscriptError(f"{name} is empty: there is no transcript to import.")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TranscriptError(f"{name} is larger than {MAX_BYTES / 1e6:.0f} MB; transcripts that large are refused.")
    kind = fmt.detect_format(text, filename)
    turns = fmt.PARSERS[kind](text)
    turns = [(speaker.strip() or "unknown", " ".join(words.split()), start) for speaker, words, start in turns]
    turns = [t for t in turns if t[1]]
    if not turns:
        raise TranscriptError(f"{name} has no spoken lines that could be read as a {kind} transcript.")
    if len(turns) > MAX_LINES:
        raise TranscriptError(f"{name} has {len(turns)} turns; at most {MAX_LINES} are accepted.")
    lines = tuple(Line(i, speaker, role_for_label(speaker), words, start)
                  for i, (speaker, words, start) in enumerate(turns, start=1))
    return Transcript(lines, kind)


#: Abbreviations after which a full stop never ends a sentence ("Dr. Okafor", "e.g. walking").
_ABBREVIATIONS = frozenset("dr mr mrs ms mx prof st jr sr vs etc e.g i.e approx appt dept".split())
#: Abbreviations that end a sentence only when the next word starts with a capital ("3 a.m. Then ...").
_SOFT_ABBREVIATIONS = frozenset("a.m p.m".split())
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of one turn, not split after titles and abbreviations ("Dr.", "e.g.", "i.e.", "a.m.").

    >>> split_sentences("Call Dr. Okafor, e.g. on Friday. I wake at 3 a.m. every night. Fine.")
    ['Call Dr. Okafor, e.g. on Friday.', 'I wake at 3 a.m. every night.', 'Fine.']
    """
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        piece = text[start:m.start()].rstrip("\"')]")
        core = piece.rstrip(" .")
        word = core.rsplit(None, 1)[-1].lstrip("(\"'") if core.strip() else ""
        last = word.lower()
        nxt = text[m.end():m.end() + 1]
        if piece.endswith(".") and (last in _ABBREVIATIONS or (last in _SOFT_ABBREVIATIONS and not nxt.isupper())
                                    or re.fullmatch(r"[A-Z]", word)):
            continue  # "Dr." / "e.g." / a single initial: the sentence goes on
        out.append(text[start:m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out
