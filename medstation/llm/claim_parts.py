"""A sentence that joins statements, cut into the statements it joins.

"Iron tablets can make your stools black, and taking them with orange juice helps absorption" joins two
statements that a passage may make in two sentences that are not adjacent; the support check
(:mod:`medstation.llm.support`) then asks for each part on its own, under every rule, and the sentence is
supported only when every part is. A part that has no subject of its own ("... and should avoid caffeine")
takes the first part's subject, and so does a part whose subject is "it"/"they" ("Ibuprofen eases pain, and
it should not be taken in pregnancy" is checked as "Ibuprofen should not be taken in pregnancy").

Cut points: ";", ", and", ", but", ", so", ", while", ", whereas", ", then" and "and"/"but" before a word that
opens a clause (a pronoun, an auxiliary), and in an instruction "and" before another instruction ("Use emollients
daily and avoid soap"). A relative clause (", which ...") and a list ("fever, cough and tiredness") are not cut.
"""

from __future__ import annotations

import re

from medstation.llm.polarity import analyse
from medstation.llm.polarity_words import AND_OPENS_CLAUSE, IMPERATIVES

_CUT = re.compile(r"\s*;\s*|,\s+(?:and|but|so|while|whereas|then)\s+|\s+(?:and|but)\s+(?=(?:"
                  + "|".join(sorted(AND_OPENS_CLAUSE)) + r")\b)", re.IGNORECASE)
_INSTRUCTION_CUT = re.compile(r"\s+and\s+(?=(?:" + "|".join(sorted(IMPERATIVES)) + r"|do not|don't)\b)", re.IGNORECASE)
_AUXILIARIES = frozenset("""is are was were can could may might must should will would has have had does do
need needs""".split())
_PRONOUNS = frozenset("it they this these".split())
MIN_WORDS = 3


def _subject_words(part: str) -> str:
    """The words of ``part`` before its first auxiliary (within six words), else the words it opens with up
    to one that reads as a verb (a lower-case word ending in -s: "Ibuprofen eases ..."), else ''."""
    words = part.split()
    for i, word in enumerate(words[:7]):
        if word.lower().strip(",") in _AUXILIARIES:
            return " ".join(words[:i])
    for i, word in enumerate(words[1:5], start=1):
        if word.islower() and word.endswith("s") and not word.endswith("ss"):
            return " ".join(words[:i])
    return ""


def claim_parts(sentence: str) -> list[str]:
    """The statements ``sentence`` joins (one item when it joins none). Parts of under MIN_WORDS words are not
    cut off (", and so on")."""
    pieces = [p.strip(" ,.") for p in _CUT.split(sentence.strip().rstrip("."))]
    if sentence.split()[:1] and sentence.split()[0].lower() in IMPERATIVES:
        # "Use emollients every day and avoid soap": two instructions
        pieces = [q.strip(" ,.") for p in pieces for q in _INSTRUCTION_CUT.split(p)]
    if len(pieces) < 2 or any(len(p.split()) < MIN_WORDS for p in pieces):
        return [sentence]
    subject = _subject_words(pieces[0])
    parts = [pieces[0] + "."]
    for piece in pieces[1:]:
        first, rest = piece.split()[0].lower(), " ".join(piece.split()[1:])
        if first in _AUXILIARIES or first in _PRONOUNS:
            if not subject:
                return [sentence]  # a part about "it" or nobody, and no subject to give it: do not cut
            # "... and should avoid caffeine", "..., and it should not be taken": the first part's subject
            piece = f"{subject} {piece}" if first in _AUXILIARIES else f"{subject} {rest}"
        parts.append(piece[0].upper() + piece[1:] + ".")
    return parts if all(any(t.content for t in analyse(p).tokens) for p in parts) else [sentence]
