"""A passage cut into quotable units: whole sentences, and lists kept together with their lead-in.

Knowledge-base passages (MedQuAD in particular) come in two list styles:

* inline, MedlinePlus: ``"Symptoms of asthma include - Wheezing - Chest tightness
  - Shortness of breath Not all people … have these symptoms."`` (the list ends
  without a full stop: the next sentence starts after the last item);
* one item a line, NHLBI: a lead-in line ending with ``:`` then one line per item,
  either bare (``"Parents who have asthma"``) or a short head and its explanation
  (``"Coughing. Coughing from asthma often is worse at night …"``).

A list becomes one :class:`Unit` whose text is ``"Lead-in: item; item; item."``:
the lead-in and every item are the passage's own words, in its order; only the
separators (``-``, line breaks) become ``:``/``;``. A list item is never quoted
without its lead-in, so "Coughing" never stands alone as a claim.

Lines without a full stop of their own outside a list are headings ("Outlook",
"Diagnosing Asthma in Young Children") or cut fragments: never quoted, but a
heading is kept as the ``section`` of the units under it (a grounded answer about
prognosis prefers what sits under "Outlook").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.llm.support import split_sentences

# a lead-in ends with ":" or with a word that announces what follows ("include", "such as", "are")
_INLINE_LEAD_END = re.compile(r"(:|\b(include|includes|including|such as|are|is|causes?|cause|can be|may be|have|"
                              r"has|with|of|the following|following))$", re.IGNORECASE)
# the last inline item runs into the next sentence: "Shortness of breath Not all people …"
_RUN_ON = re.compile(r"(?<=[a-z0-9)%'])\s+(?=[A-Z][a-z']*\s)")
_END_PUNCT = ".!?"
# "These factors include:" names its subject in the sentence before, which is quoted with the list
ANAPHORIC_LEAD = re.compile(r"^(these|they|this|those|such|some of these|the following|examples)\b", re.IGNORECASE)
HEAD_MAX_WORDS = 6  # "Chest tightness. This may feel …": a head of a few words, then its explanation
MIN_LIST_ITEMS = 2
# MedQuAD opens passages with a label and a spaced colon ("Summary : Not all medicines …"): a heading, not the
# sentence's words. A colon without the space before it ("Note: take it with food") is the passage's own wording.
_SPACED_LABEL = re.compile(r"^([A-Z][A-Za-z]*(?: [A-Za-z]+){0,3}) : (?=[\"'(]?[A-Z0-9])")


@dataclass(frozen=True)
class Unit:
    """One quotable unit of a passage, in reading order (``position`` 0, 1, …).

    ``text``: what is quoted (ends with ``.`` or ``!``); for a list ``lead`` and ``items`` are its parts
    (``text`` is ``"lead: item; item."``), and ``context`` the sentence before an anaphoric lead-in
    ("… factors interact to cause asthma." before "These factors include:"), quoted first;
    ``section``: the heading above it in the passage ("" when none).
    """

    position: int
    text: str
    lead: str = ""
    items: tuple[str, ...] = ()
    section: str = ""
    context: str = ""

    @property
    def is_list(self) -> bool:
        return bool(self.items)


def list_text(lead: str, items) -> str:
    """``"Lead: a; b; c."`` from a lead-in and items (their own trailing punctuation dropped)."""
    return f"{lead.rstrip(' :-')}: " + "; ".join(i.strip().rstrip(" .;,") for i in items) + "."


def _ends_sentence(line: str) -> bool:
    return bool(line) and line[-1] in _END_PUNCT


def _title_case(line: str) -> bool:
    """"Medical and Family Histories": every word of 4+ letters capitalised, at least two of them."""
    long_words = [w for w in re.findall(r"[A-Za-z][\w'-]*", line) if len(w) >= 4]
    return len(long_words) >= 2 and all(w[0].isupper() for w in long_words)


def _split_inline_list(sentence: str) -> tuple[str, list[str], str] | None:
    """(lead, items, run-on sentence after the list) of an inline ``lead - a - b`` sentence, else None."""
    parts = [p.strip() for p in sentence.split(" - ")]
    if len(parts) < 1 + MIN_LIST_ITEMS or not _INLINE_LEAD_END.search(parts[0].rstrip()):
        return None
    items, tail = parts[1:], ""
    last = items[-1]
    match = _RUN_ON.search(last)
    if match and len(last[match.end():].split()) >= 4 and _ends_sentence(last):
        items[-1], tail = last[:match.start()], last[match.end():]
    if any(not item for item in items):
        return None
    return parts[0], items, tail


def _list_items(lines: list[str], start: int) -> tuple[list[str], list[str], int]:
    """Items of the line list beginning at ``lines[start]``: (items, explanation sentences, next line index).

    Bare items run while lines have no full stop (and are not Title Case headings); head items run while
    each line opens with a head of at most ``HEAD_MAX_WORDS`` words. Anything else is not a list.
    """
    if start >= len(lines):
        return [], [], start
    items: list[str] = []
    explanations: list[str] = []
    i = start
    bare = not _ends_sentence(lines[start]) and not lines[start].endswith(":")
    while i < len(lines):
        line = lines[i]
        if line.endswith(":") or (items and _title_case(line) and not _ends_sentence(line)):
            break
        if bare:
            if _ends_sentence(line):
                break
            items.append(line)
        else:
            sentences = split_sentences(line)
            if not sentences or len(sentences[0].split()) > HEAD_MAX_WORDS or not _ends_sentence(sentences[0]):
                break
            items.append(sentences[0])
            explanations.extend(sentences[1:])
        i += 1
    return items, explanations, i


def passage_units(text: str) -> list[Unit]:
    """Every candidate unit of ``text`` (quotability is judged by the caller: length, full stop)."""
    units: list[Unit] = []
    section = ""

    def add(sentence: str, lead: str = "", items=(), context: str = "") -> None:
        body = list_text(lead, items) if items else sentence
        body = f"{context} {body}" if context else body
        units.append(Unit(len(units), body, lead, tuple(i.strip().rstrip(" .;,") for i in items), section, context))

    def add_sentence(sentence: str) -> None:
        nonlocal section
        label = _SPACED_LABEL.match(sentence)
        if label:
            section, sentence = label.group(1), sentence[label.end():]
        inline = _split_inline_list(sentence)
        if inline is None:
            add(sentence)
            return
        lead, items, tail = inline
        add("", lead, items)
        if tail:
            add(tail)

    lines = [line.strip() for line in str(text).split("\n") if line.strip()]
    i = 0
    while i < len(lines):
        line = lines[i]
        if not _ends_sentence(line) and not line.endswith(":") and len(line.split()) <= 10:
            section = line  # a heading ("Outlook"); a longer line keeps its sentences, its unfinished end is dropped
            i += 1
            continue
        if line.endswith("?") and len(line.split()) <= 12 and len(split_sentences(line)) == 1:
            section = line  # "What Are the Risks?"
            i += 1
            continue
        sentences = split_sentences(line)
        if not line.endswith(":"):
            for sentence in sentences:
                add_sentence(sentence)
            i += 1
            continue
        before, lead = sentences[:-1], (sentences[-1] if sentences else line)
        items, explanations, after = _list_items(lines, i + 1)
        listed = len(items) >= MIN_LIST_ITEMS
        context = before.pop() if listed and before and ANAPHORIC_LEAD.match(lead) else ""
        for sentence in before:
            add_sentence(sentence)
        if listed:
            add("", lead, items, context)
            for sentence in explanations:
                add_sentence(sentence)
            i = after
        else:
            i += 1  # a lead-in without a list under it is a fragment: its lines are read as they are
    return units
