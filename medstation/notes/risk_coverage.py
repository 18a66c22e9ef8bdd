"""Does a note still state each risk the transcript raised? (checked at sign-off and export)

A flag that needs acknowledgement (present or unclear) counts as stated when some line of the note,
read without negation, names its category (its label or a clinical synonym: "SI", "self-injury",
"firearm"), matches one of the category's risk patterns, or quotes the flagged transcript sentence.
"Client denies SI" does not state a present suicidal-ideation flag: that is the removal this check exists
to catch.
"""

from __future__ import annotations

import re

from medstation.notes import risk_patterns as rp
from medstation.notes.risk import CATEGORY_LABELS, DETECTOR_UNAVAILABLE

_SYNONYMS = {
    "suicidal_ideation": r"suicid\w*|\bS\.?I\.?\b|(?:passive )?death wish|wish(?:es|ed)? to die|"
                         r"end(?:ing)? (?:his|her|their|my) (?:own )?life|better off (?:dead|without)",
    "homicidal_ideation": r"homicid\w*|\bH\.?I\.?\b|(?:harm|hurt|kill)(?:ing)? (?:others|other people|someone)|"
                          r"violen\w* (?:toward|towards|against) others",
    "self_harm": r"self[- ]?(?:harm|injur)\w*|\bNSSI\b|cutting|cuts|burning (?:him|her|them)sel\w+",
    "abuse": r"abus\w*|violen\w*|neglect\w*|assault\w*|coerci\w*|controlling|unsafe at home|safeguarding|"
             r"molest\w*|rape\w*",
    "overdose": r"overdos\w*|\bOD\b|ingest\w*",
    "lethal_means": r"lethal means|firearms?|guns?|weapons?|stockpil\w*|means restriction|rifles?|pistols?",
}
_COMPILED = {cat: re.compile(rf"(?:{CATEGORY_LABELS[cat]})|(?:{pat})", re.IGNORECASE) for cat, pat in _SYNONYMS.items()}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _states(category: str, phrases: list[str], note_lines: list[str]) -> bool:
    quotes = [_norm(p) for p in phrases if len(p.split()) >= 3]
    for line in note_lines:
        if any(q and q in _norm(line) for q in quotes):
            return True
        for m in _COMPILED[category].finditer(line):
            if not rp.negated(line, m.start(), m.end()):
                return True
        for cat, _, start, end in rp.pattern_spans(line):
            if cat == category and not rp.negated(line, start, end):
                return True
    return False


def unstated_risks(flags: list[dict], note_text: str) -> list[dict]:
    """The flags (``RiskFlag.to_dict()`` shape) needing acknowledgement that ``note_text`` no longer states."""
    lines = [line for line in note_text.splitlines() if line.strip()]
    return [f for f in flags if f.get("needs_acknowledgement") and f["category"] != DETECTOR_UNAVAILABLE
            and f["category"] in _COMPILED and not _states(f["category"], list(f.get("phrases", ())), lines)]


def unstated_message(missing: list[dict], action: str = "signing") -> str:
    names = "; ".join(f"{f['label']} (transcript line {', '.join(map(str, f['lines']))})" for f in missing)
    return (f"The note no longer states the risk the transcript raises: {names}. Put a statement of it back "
            f"in the note (the drafted \"Risk: …\" line, or your own words) before {action}.")
