"""Word error rate: (substitutions + deletions + insertions) / reference words, after normalising.

Normalising lower-cases and drops punctuation (digits are not spelt out), so
"Hello, world." and "hello world" match; numbers must therefore be written as words in references.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def normalise(text: str) -> list[str]:
    return [w.strip("'") for w in _WORD.findall(text.lower().replace("’", "'")) if w.strip("'")]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """``(edit distance in words, reference word count)``; Levenshtein over words, one row at a time."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1], len(ref)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate in [0, inf); 0.0 for two empty texts, 1.0 for an empty reference with words heard."""
    errors, n = word_errors(reference, hypothesis)
    if n == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / n
