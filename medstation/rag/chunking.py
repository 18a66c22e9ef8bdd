"""Split text into overlapping chunks on sentence and paragraph boundaries.

Positions are character offsets into the text given. Guarantees (checked by
property tests): every chunk is at most ``max_chars`` long; consecutive chunks
share at most ``overlap`` characters; together the chunks cover every
non-whitespace character; chunk starts strictly increase.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally closed by a quote/bracket) followed by whitespace,
# or at a line break; paragraph breaks are line breaks too.
_UNIT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_SPACE = re.compile(r"\s+")


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Pieces of text[start:end] at most ``max_chars`` long, cut at whitespace when possible."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = -1
        for m in _SPACE.finditer(text, start + 1, limit + 1):
            cut = m.start()
        if cut <= start:
            cut = limit  # one word longer than a chunk: hard cut
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def sentence_units(text: str, max_chars: int) -> list[tuple[int, int]]:
    """``(start, end)`` spans of sentences (no leading/trailing whitespace), none longer than ``max_chars``."""
    units: list[tuple[int, int]] = []
    pos = 0
    for m in list(_UNIT_END.finditer(text)) + [None]:
        stop = len(text) if m is None else m.start()
        s, e = pos, stop
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            units.extend(_split_long(text, s, e, max_chars))
        if m is not None:
            pos = m.end()
    return units


def chunk_spans(text: str, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of whole sentences into chunks of at most ``max_chars``.

    The next chunk starts at the first sentence that begins within the last
    ``overlap`` characters of the previous chunk, so neighbours share whole
    sentences (context for the embedder) but never more than ``overlap`` chars.
    """
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    if not 0 <= overlap < max_chars:
        raise ValueError("overlap must be in [0, max_chars)")
    units = sentence_units(text, max_chars)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        j = i
        while j + 1 < len(units) and units[j + 1][1] - start <= max_chars:
            j += 1
        end = units[j][1]
        spans.append((start, end))
        if j == len(units) - 1:
            break
        nxt = j + 1
        # Step back over trailing sentences that fit entirely in the overlap window, as long
        # as the next chunk still reaches the first unseen sentence (so it adds new text).
        while (
            nxt - 1 > i
            and units[nxt - 1][0] >= end - overlap
            and units[j + 1][1] - units[nxt - 1][0] <= max_chars
        ):
            nxt -= 1
        i = nxt
    return spans


def chunk_text(text: str, max_chars: int, overlap: int) -> list[str]:
    return [text[s:e] for s, e in chunk_spans(text, max_chars, overlap)]
