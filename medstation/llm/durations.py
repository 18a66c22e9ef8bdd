"""Spans of time said in other units: "a year" is "12 months", "a fortnight" is "2 weeks", "a day" is "24 hours".

A support-check rewording (:func:`medstation.llm.word_alignment.align`, and the substitution veto of
:mod:`medstation.llm.substitution`): a claim's number and time unit match the evidence's when both name the same
span exactly. Only exact conversions: minutes, hours, days, weeks and fortnights in one family, months and years
in another (a month is not four weeks). The article counts as one before a unit ("about a day later"), except in
a rate ("twice a day", "once a week", "every day", "per hour"). Every other number rule still applies to the
converted claim (the passage's 12 months must be the claim's one year, not its 2 years).
"""

from __future__ import annotations

from dataclasses import replace

from medstation.llm.polarity import Analysis, Token, stem

#: Unit stem -> (family, size in the family's smallest unit).
SPANS = {stem(w): span for w, span in {"minute": ("time", 1), "hour": ("time", 60), "day": ("time", 1440),
                                      "week": ("time", 10080), "fortnight": ("time", 20160),
                                      "month": ("calendar", 1), "year": ("calendar", 12)}.items()}
_RATE_WORDS = frozenset({"once", "every", "per", "each"})


def _count(tokens: list[Token], unit_at: int) -> tuple[int, float] | None:
    """(index, value) of the count before the unit word at ``unit_at``: a number attached to it, or an article."""
    if unit_at == 0:
        return None
    before = tokens[unit_at - 1]
    if before.number is not None and before.unit == tokens[unit_at].stem:
        return unit_at - 1, float(before.number)
    if before.text in ("a", "an"):
        earlier = tokens[unit_at - 2] if unit_at > 1 else None
        if earlier is None or (earlier.number is None and earlier.text not in _RATE_WORDS):
            return unit_at - 1, 1.0
    return None


def duration_matches(claim: Analysis, evidence: Analysis, indices: list[int]) -> dict[int, Token]:
    """``claim token index -> replacement token`` for the claim's time units at ``indices`` (and their counts) that
    the evidence states in another unit: the claim then says the evidence's number and unit."""
    out: dict[int, Token] = {}
    for i in indices:
        unit = claim.tokens[i]
        count = _count(claim.tokens, i) if unit.stem in SPANS else None
        if count is None:
            continue
        at, value = count
        family, size = SPANS[unit.stem]
        for u in evidence.tokens:
            span = SPANS.get(u.unit) if u.number is not None else None
            if span is not None and span[0] == family and u.number * span[1] == value * size and u.unit != unit.stem:
                out[at] = replace(claim.tokens[at], number=u.number, stem=f"{u.number:g}", unit=u.unit)
                out[i] = replace(unit, stem=u.unit)
                break
    return out


def same_duration(said: list[Token], instead: list[Token]) -> bool:
    """Whether two stretches name the same span of time (a count, or one, and a unit of :data:`SPANS`)."""
    def span(tokens: list[Token]) -> tuple[str, float] | None:
        units = [t for t in tokens if t.stem in SPANS and t.number is None]
        numbers = [t for t in tokens if t.number is not None]
        if len(units) != 1 or len(numbers) > 1 or len(tokens) > len(units) + len(numbers):
            return None
        family, size = SPANS[units[0].stem]
        return family, (float(numbers[0].number) if numbers else 1.0) * size

    a, b = span(said), span(instead)
    return a is not None and a == b


def equivalents(number: float, unit: str) -> set[str]:
    """The same span's whole counts in the other units of its family: (1, "year") -> {"12"} (months)."""
    if unit not in SPANS:
        return set()
    family, size = SPANS[unit]
    return {f"{number * size / other:g}" for name, (fam, other) in SPANS.items()
            if fam == family and name != unit and (number * size) % other == 0}
