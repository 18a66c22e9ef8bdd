"""Abbreviations: one text's "DVT" is the other's "deep vein thrombosis" (a support-check rewording).

Used by :func:`medstation.llm.word_alignment.align` (claim words the evidence abbreviates or spells out) and by the
substitution veto (:mod:`medstation.llm.substitution`: a copied sentence with a name abbreviated is no swap). Two
to six letters; the spelled-out words are content (or direction: "chronic obstructive pulmonary disease") words of
one clause, "of"/"and"/"the" skipped; a plural ending is not a letter ("UTIs").
"""

from __future__ import annotations

from medstation.llm.polarity import Analysis, Token


def _candidate(t: Token) -> bool:
    return t.content and not t.role and t.number is None


def _letters(word: str) -> str:
    """An abbreviation's letters, without a plural ending ("utis" -> "uti")."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _spelled(tokens: list[Token], start: int, letters: str) -> int:
    """How many tokens from ``start`` (content words, one clause; "of"/"and" skipped) spell ``letters`` by their
    initials; 0 when they do not."""
    k, used = start, 0
    while used < len(letters) and k < len(tokens) and tokens[k].clause == tokens[start].clause:
        t = tokens[k]
        if t.text in ("of", "and", "the") and used:
            k += 1
            continue
        if t.number is not None or t.role or t.cue or not (t.content or t.direction) or t.text[0] != letters[used]:
            return 0  # "chronic obstructive pulmonary disease": a direction word may be part of the name
        used, k = used + 1, k + 1
    return k - start if used == len(letters) else 0


def acronym_matches(claim: Analysis, evidence: Analysis, indices: list[int]) -> dict[int, str]:
    """``claim token index -> evidence stem`` where one side abbreviates the other: the claim's "DVT" for the
    evidence's "deep vein thrombosis" (the claim word takes the stem of the phrase's last word), or the claim's
    "urinary tract infection" for the evidence's "UTI" (each claim word takes it). Two to six letters, the
    spelled-out words content words of one clause."""
    out: dict[int, str] = {}
    tokens = evidence.tokens
    for i in indices:
        letters = _letters(claim.tokens[i].text)
        if not 2 <= len(letters) <= 6 or not letters.isalpha():
            continue
        for start in range(len(tokens)):
            n = _spelled(tokens, start, letters)
            if n:
                out[i] = tokens[start + n - 1].stem
                break
    wanted = set(indices) - set(out)
    for u in tokens:
        letters = _letters(u.text)
        if not _candidate(u) or not 2 <= len(letters) <= 6:
            continue
        for start in sorted(wanted):
            n = _spelled(claim.tokens, start, letters)
            spelled = [j for j in range(start, start + n) if claim.tokens[j].content]
            if n and set(spelled) <= wanted:
                out.update({j: u.stem for j in spelled})
                wanted -= set(spelled)
                break
    return out


def abbreviates(said: list[Token], instead: list[Token]) -> bool:
    """Whether one side is the other's abbreviation ("DVT" / "deep vein thrombosis"), either way round."""
    for short, long_ in ((said, instead), (instead, said)):
        words = [t for t in long_ if t.text not in ("of", "and", "the")]
        if len(short) == 1 and len(words) >= 2 and _letters(short[0].text) == "".join(t.text[0] for t in words):
            return True
    return False



def spelled_in(tokens: list[Token], word: str) -> bool:
    """Whether ``tokens`` spell out the abbreviation ``word`` somewhere ("CLM": "cutaneous larva migrans")."""
    letters = _letters(word.lower())
    return 2 <= len(letters) <= 6 and letters.isalpha() and any(_spelled(tokens, s, letters)
                                                                 for s in range(len(tokens)))
