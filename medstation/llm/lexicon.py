"""Synonyms from WordNet 3.0: do two words (or a phrasal verb and a word) name the same sense?

The table is ``resources/lexicon/wordnet_synonyms.json.gz``, built once by ``scripts/build_lexicon.py`` from the
WordNet database (licence: ``resources/lexicon/WORDNET_LICENSE``); nothing of WordNet is needed at run time. It maps
a lemma to the synsets it is a member of, keeping only a lemma's frequent senses, so two words match only when
one of their common senses is the same concept ("skip"/"pass over", "seldom"/"rarely", "lower"/"reduce",
"trigger"/"set off"). Hypernyms and co-hyponyms are not synonyms in WordNet and are not in the table: two drugs of
one class, "increase"/"decrease", "children"/"adults" never share a synset; pairs WordNet calls antonyms never
match even where another sense of theirs does.

Inflected forms reach their lemma as WordNet's own ``morphy`` does: the irregular forms of the ``*.exc`` lists
("given" -> "give", "children" -> "child") and its suffix rules ("reduces" -> "reduce", "lowered" -> "lower").

Loaded lazily, once per process (:func:`shared_lexicon`); a missing or unreadable file gives ``None`` and the
callers match as they did without it.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

RESOURCE = Path("lexicon") / "wordnet_synonyms.json.gz"
#: WordNet's morphy detachment rules (suffix, replacement), nouns, verbs and adjectives together.
_DETACH = (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
           ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""),
           ("er", ""), ("est", ""), ("er", "e"), ("est", "e"))


#: One medicine or condition under its British (INN) and American (USAN) names, which WordNet does not link.
NAME_PAIRS = (("paracetamol", "acetaminophen"), ("salbutamol", "albuterol"), ("adrenaline", "epinephrine"),
              ("noradrenaline", "norepinephrine"), ("frusemide", "furosemide"), ("lignocaine", "lidocaine"),
              ("pethidine", "meperidine"), ("ciclosporin", "cyclosporine"), ("glibenclamide", "glyburide"),
              ("colestyramine", "cholestyramine"), ("sulphasalazine", "sulfasalazine"), ("amoxycillin", "amoxicillin"),
              ("coeliac", "celiac"), ("anaemia", "anemia"), ("anaemic", "anemic"), ("ageing", "aging"))
#: British -ise/-isation spellings read as -ize/-ization (WordNet lists many, not all).
_ISE = (("isation", "ization"), ("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"))


class Lexicon:
    """``synsets``: lemma -> synset numbers; ``exceptions``: irregular form -> lemma; ``antonyms`` and ``derived``
    (one word family: "dependent"/"dependence"): lemma pairs; ``main``: lemma -> the synsets of its main sense."""

    def __init__(self, synsets: dict[str, list[int]], exceptions: dict[str, str],
                 antonyms: list[list[str]] | tuple = (), derived: list[list[str]] | tuple = (),
                 main: dict[str, list[int]] | None = None) -> None:
        synsets = dict(synsets)
        first = 1 + max((n for ids in synsets.values() for n in ids), default=0)
        for k, pair in enumerate(NAME_PAIRS):
            for name in pair:
                synsets[name] = list(synsets.get(name, ())) + [first + k]
        self._synsets = synsets
        self._main = main or {}  # lemmas whose main sense is not all their senses
        self._exceptions = exceptions
        self._antonyms = frozenset(frozenset(pair) for pair in antonyms)
        self._derived = frozenset(frozenset(pair) for pair in derived)
        self._known = frozenset(synsets) | {w for pair in derived for w in pair}

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        return cls(data["synsets"], data["exceptions"], data.get("antonyms", ()), data.get("derived", ()),
                   data.get("main"))

    def __len__(self) -> int:
        return len(self._synsets)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 -- one shared table per process; words repeat across checks
    def lemmas(self, word: str) -> tuple[str, ...]:
        """The table's lemmas that ``word`` (any inflection, lower case) may be a form of; empty when none."""
        word = word.lower()
        for british, american in _ISE:
            if word.endswith(british) and len(word) > len(british) + 3 and word not in self._known:
                word = word[: -len(british)] + american  # "recognise" -> "recognize"
                break
        found = [word] if word in self._known else []
        base = self._exceptions.get(word)
        if base is not None:
            found.append(base)
        for suffix, repl in _DETACH:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                candidate = word[: len(word) - len(suffix)] + repl
                if candidate in self._known:
                    found.append(candidate)
        for suffix in ("ing", "ed"):  # a doubled consonant: "stopped"/"stopping" -> "stop"
            cut = word[: -len(suffix)]
            if word.endswith(suffix) and len(cut) > 3 and cut[-1] == cut[-2] and cut[:-1] in self._known:
                found.append(cut[:-1])
        return tuple(dict.fromkeys(found))

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def senses(self, word: str) -> frozenset[int]:
        """Synset numbers of every lemma ``word`` may be a form of (``"set_off"`` for a two-word phrase)."""
        return frozenset(s for lemma in self.lemmas(word) for s in self._synsets.get(lemma, ()))

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def main_senses(self, word: str) -> frozenset[int]:
        """Synset numbers of the main sense (first of each part of speech) of every lemma ``word`` may be."""
        return frozenset(s for lemma in self.lemmas(word) for s in self._main.get(lemma, self._synsets.get(lemma, ())))

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def phrase_senses(self, first: str, second: str, main: bool = False) -> frozenset[int]:
        """Synsets of the phrase ``first second`` with the first word inflected ("finds out" -> ``find_out``,
        "goes away" -> ``go_away``: the head need not be a lemma of its own); ``main``: its main sense only."""
        first = first.lower()
        heads = {first, self._exceptions.get(first, first)}
        heads |= {first[: len(first) - len(suffix)] + repl for suffix, repl in _DETACH
                  if first.endswith(suffix) and len(first) - len(suffix) >= 2}
        phrases = [f"{head}_{second.lower()}" for head in heads]
        table = [self._main.get(p, self._synsets.get(p, ())) if main else self._synsets.get(p, ()) for p in phrases]
        return frozenset(s for senses in table for s in senses)

    def antonyms(self, a: str, b: str) -> bool:
        """Whether WordNet links some lemma of ``a`` to some lemma of ``b`` as antonyms."""
        return any(frozenset((x, y)) in self._antonyms for x in self.lemmas(a) or (a,) for y in self.lemmas(b) or (b,))

    def synonyms(self, a: str, b: str, main: bool = False) -> bool:
        """Whether ``a`` and ``b`` share a synset (``main``: the main sense of one of them, so "cut" is "reduce" but
        "keep" is not "prevent") and are not antonyms."""
        if main:
            shared = self.main_senses(a) & self.senses(b) or self.senses(a) & self.main_senses(b)
        else:
            shared = self.senses(a) & self.senses(b)
        return bool(shared) and not self.antonyms(a, b)

    def derived(self, a: str, b: str) -> bool:
        """Whether WordNet links a lemma of ``a`` and one of ``b`` as one word family ("pregnant"/"pregnancy")."""
        return any(frozenset((x, y)) in self._derived for x in self.lemmas(a) for y in self.lemmas(b))

    def related(self, a: str, b: str) -> bool:
        """Synonyms, or one word family, and not antonyms."""
        return (bool(self.senses(a) & self.senses(b)) or self.derived(a, b)) and not self.antonyms(a, b)


@functools.lru_cache(maxsize=1)
def shared_lexicon() -> Lexicon | None:
    """The shipped table, loaded on first use; None (said once in the log) when it cannot be read."""
    from medstation.config import resources_dir

    path = resources_dir() / RESOURCE
    try:
        return Lexicon.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("synonym lexicon unavailable (%s), support check matches without it: %s", path, exc)
        return None
