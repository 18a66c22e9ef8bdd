"""Key-fact recall: does a draft state, in the right section, the facts a clinician would record?

The sessions and their facts live in ``tests/data/keyfact_sessions/sessions.json`` (written for this
check, see the README there). The judging rule was fixed before any pipeline change:

* a fact is present when **one sentence** of **a section allowed for its kind**
  (:data:`ALLOWED_SECTIONS`) contains, for **every** term group, at least one alternative;
* an alternative matches case-insensitively from a word start ("sleep" matches "sleeping");
  one ending in ``$`` must also end at a word end ("no$" matches "no", not "not").

Standard library only, so the same scorer can grade any checkout's drafts
(``benchmarks/bench_keyfacts.py --repo``). Split: odd session numbers are the
development half, even numbers the test half (:func:`split_of`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("report", "observation", "safety", "intervention", "response", "plan")

#: Sections of each built-in template where a fact of each kind belongs.
ALLOWED_SECTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "soap": {"report": ("subjective",), "observation": ("objective",), "safety": ("assessment",),
             "intervention": ("plan",), "response": ("assessment",), "plan": ("plan",)},
    "dap": {"report": ("data",), "observation": ("data",), "safety": ("assessment",),
            "intervention": ("data",), "response": ("assessment",), "plan": ("plan",)},
    "birp": {"report": ("behavior",), "observation": ("behavior",), "safety": ("behavior", "plan"),
             "intervention": ("intervention",), "response": ("response",), "plan": ("plan",)},
}


@dataclass(frozen=True)
class KeyFact:
    fact: str
    kind: str
    terms: tuple[str, ...]  # groups; each "alt1|alt2|..."


@dataclass(frozen=True)
class KeyFactSession:
    id: str
    lines: tuple[str, ...]
    facts: tuple[KeyFact, ...]

    @property
    def transcript(self) -> str:
        return "\n".join(self.lines)


def load_sessions(path: Path) -> list[KeyFactSession]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [KeyFactSession(s["id"], tuple(s["lines"]),
                           tuple(KeyFact(f["fact"], f["kind"], tuple(f["terms"])) for f in s["facts"]))
            for s in data]


def split_of(session_id: str) -> str:
    """``dev`` for odd session numbers, ``test`` for even ones (fixed before tuning)."""
    return "dev" if int(re.sub(r"\D", "", session_id)) % 2 else "test"


def _alternative(alt: str) -> re.Pattern:
    alt = alt.strip().lower()
    whole = alt.endswith("$")
    body = re.escape(alt.rstrip("$"))
    return re.compile(rf"(?<![a-z0-9]){body}" + (r"(?![a-z0-9])" if whole else ""))


def group_matches(group: str, sentence: str) -> bool:
    low = sentence.lower().replace("’", "'")
    return any(_alternative(a).search(low) for a in group.split("|") if a.strip())


def fact_present(fact: KeyFact, sections: dict[str, list[str]], template: str) -> bool:
    """``sections``: section key -> the section's sentences (one per line of the drafted text)."""
    for key in ALLOWED_SECTIONS[template][fact.kind]:
        for sentence in sections.get(key, []):
            if all(group_matches(g, sentence) for g in fact.terms):
                return True
    return False


def sections_from_text(text: str, titles: dict[str, str]) -> dict[str, list[str]]:
    """Section key -> lines, from ``Draft.to_text()`` output (upper-case title lines start sections).

    ``titles``: section key -> title as the template writes it.
    """
    by_title = {title.upper(): key for key, title in titles.items()}
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.strip() in by_title:
            current = by_title[line.strip()]
            out.setdefault(current, [])
        elif current is not None and line.strip():
            out[current].append(line.strip())
    return out


def recall(results: list[tuple[KeyFactSession, KeyFact, bool]]) -> dict:
    """Overall and per-kind recall of ``(session, fact, present)`` rows."""
    def share(rows):
        return round(sum(p for *_, p in rows) / len(rows), 4) if rows else None

    per_kind = {k: share([r for r in results if r[1].kind == k]) for k in KINDS}
    return {"facts": len(results), "present": sum(p for *_, p in results), "recall": share(results),
            "per_kind": {k: v for k, v in per_kind.items() if v is not None}}
