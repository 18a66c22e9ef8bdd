"""Citation markers in model answers: ``[n]``, ``[n, m]``, ``[n; m]``, ``[n-m]``.

A marker may only point at a passage that was actually retrieved (numbers
``1..k``). Numbers outside that range are removed from the text and flagged:
a citation to nothing is worse than no citation, because it looks checked.
Markers that keep at least one valid number are rewritten to the canonical
``[a, b]`` form; markers with none are deleted together with the space before
them. Validation is idempotent: validating the result again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A bracket holding only numbers joined by commas, semicolons or ranges; e.g. [1], [2, 3], [1-3], [1;4].
MARKER = re.compile(r"\[\s*(\d{1,4}(?:\s*(?:[,;]|[-–])\s*\d{1,4})*)\s*\]")
_MAX_RANGE = 50


@dataclass(frozen=True)
class RemovedMarker:
    """A marker (as the model wrote it) and the numbers in it that point at no retrieved passage."""

    marker: str
    invalid: tuple[int, ...]


@dataclass(frozen=True)
class CitationResult:
    """``text`` with only valid markers; ``cited`` holds passage numbers (1-based) in order of first use."""

    text: str
    cited: tuple[int, ...]
    removed: tuple[RemovedMarker, ...] = field(default_factory=tuple)
    uncited: tuple[int, ...] = field(default_factory=tuple)


def marker_numbers(inner: str) -> list[int]:
    """Numbers inside one marker's brackets, ranges expanded (``"1-3"`` -> ``[1, 2, 3]``)."""
    numbers: list[int] = []
    for part in re.split(r"[,;]", inner):
        bounds = [int(x) for x in re.split(r"[-–]", part) if x.strip()]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def validate_citations(text: str, n_passages: int) -> CitationResult:
    """Keep markers that point at passages ``1..n_passages``; remove and flag the rest."""
    cited: list[int] = []
    removed: list[RemovedMarker] = []
    pieces: list[str] = []
    position = 0
    for match in MARKER.finditer(text):
        numbers = marker_numbers(match.group(1))
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= n_passages]
        invalid = tuple(n for n in dict.fromkeys(numbers) if not 1 <= n <= n_passages)
        before = text[position:match.start()]
        if invalid:
            removed.append(RemovedMarker(match.group(0), invalid))
        if valid:
            pieces.append(before + "[" + ", ".join(str(n) for n in valid) + "]")
            cited.extend(n for n in valid if n not in cited)
        else:
            pieces.append(before.rstrip(" ") if before.endswith(" ") else before)
        position = match.end()
    pieces.append(text[position:])
    uncited = tuple(n for n in range(1, n_passages + 1) if n not in cited)
    return CitationResult("".join(pieces), tuple(cited), tuple(removed), uncited)


def split_by_markers(text: str) -> list[str | tuple[int, ...]]:
    """``text`` as alternating plain strings and marker number tuples, for rendering links."""
    parts: list[str | tuple[int, ...]] = []
    position = 0
    for match in MARKER.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
        parts.append(tuple(marker_numbers(match.group(1))))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return parts
