"""Risk flags that stay current: computed from the session's latest transcript, acknowledged per transcript.

A note's flags are not the ones frozen at its first draft: :func:`current_flags` reads them from the
latest stored transcript (so an edit, a speaker swap or a re-import that adds a risk raises a flag at
once), cached per transcript text because the semantic detector embeds every sentence. An acknowledgement
counts only for the transcript it was given on, and only when it covered every line of the flag: a new
risk line, or a changed transcript, asks the clinician to look again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from medstation.notes.risk import detect_risks, risk_flags
from medstation.notes.risk_coverage import unstated_risks
from medstation.notes.transcript import parse_transcript

__all__ = ["acknowledged_categories", "current_flags", "unstated_risks"]

_CACHE: OrderedDict[tuple[str, bool], tuple[dict, ...]] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()


def current_flags(stored_text: str, roles_swapped: bool) -> tuple[dict, ...]:
    """``RiskFlag.to_dict()`` of every flag of a stored transcript (``[speaker] words`` lines)."""
    key = (stored_text, roles_swapped)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    transcript = parse_transcript(stored_text, "stored.txt")
    if roles_swapped:  # stored labels are as written; roles follow the swap flag
        transcript = transcript.with_roles_swapped()
    flags = tuple(f.to_dict() for f in risk_flags(detect_risks(transcript)))
    with _LOCK:
        _CACHE[key] = flags
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return flags


def _naive(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=None) if t is not None and t.tzinfo is not None else t


def acknowledged_categories(flags: tuple[dict, ...], acks: list[tuple[str, str, tuple[int, ...], datetime]],
                            transcript_at: datetime | None) -> tuple[str, ...]:
    """Categories of ``flags`` whose acknowledgement still holds.

    ``acks``: ``(category, status, lines, acknowledged_at)`` rows; ``transcript_at``: when the latest
    transcript version was stored (an acknowledgement given before it was for another transcript)."""
    since = _naive(transcript_at)
    held = []
    for flag in flags:
        for category, _status, lines, at in acks:
            fresh = since is None or (at is not None and _naive(at) >= since)
            if category == flag["category"] and fresh and set(flag["lines"]) <= set(lines):
                held.append(flag["category"])
                break
    return tuple(held)
