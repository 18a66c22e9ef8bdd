"""Build ``resources/lexicon/wordnet_synonyms.json.gz``: a compact synonym table from WordNet 3.0 for the support check.

The support check (:mod:`medstation.llm.word_alignment`) lets a claim word match a passage word when both name one
WordNet synset ("skip"/"miss", "lower"/"reduce", "seldom"/"rarely"). Only *synonyms* go in: lemmas of the same
synset, never hypernyms, hyponyms or "similar to" clusters (co-hyponyms such as two drugs of one class, or
"increase"/"decrease", never share a synset). Rare senses are dropped, because a lemma's rare sense makes odd
pairs ("dose" is also a slang name of LSD, so it shares a synset with "acid"): a lemma keeps a synset only when it
is its first sense in WordNet's frequency order or a sense tagged in the SemCor counts (``tagsense_cnt`` of the
index files: the first ``tagsense_cnt`` senses). A synset left with fewer than two
lemmas says no synonym and is dropped; so are synsets of numbers ("one"/"ace"/"single").

Output (gzip'd JSON, keys sorted, deterministic):

* ``synsets``: lemma (lower case, multiword lemmas joined by ``_``) -> list of synset numbers (0-based, renumbered);
* ``main``: lemma -> the synsets of its main sense (the first of each part of speech), for lemmas with other
  senses too (absent: all its senses are main; empty: its main sense has no synonym here): a word
  that names a direction only in a minor sense ("keep" as "prevent") is not given that direction;
* ``exceptions``: WordNet's irregular forms (``*.exc``) -> base lemmas (``given`` -> ``give``,
  ``children`` -> ``child``),
  restricted to forms whose base is in ``synsets``;
* ``antonyms``: lemma pairs WordNet links as antonyms (any sense): never matched, even where another sense of
  the two words shares a synset;
* ``derived``: lemma pairs of one word family that WordNet links as derivationally related ("dependent" /
  "dependence", "pregnant" / "pregnancy"), kept only where both are single words sharing their first four
  letters, neither is a person (WordNet's noun.person: "donor" is not "donate") and neither ends in a suffix
  that turns the meaning (-less, -ful, -free);
* ``source`` and ``licence``: where the data came from (the full notice is ``resources/lexicon/WORDNET_LICENSE``).

Input: a WordNet 3.0 database folder (Debian/Ubuntu package ``wordnet-base``: ``/usr/share/wordnet``; without
root, ``apt-get download wordnet-base && dpkg -x wordnet-base_*.deb root`` gives ``root/usr/share/wordnet``)::

    python scripts/build_lexicon.py --wordnet /usr/share/wordnet
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "lexicon" / "wordnet_synonyms.json.gz"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
MAX_SENSES = 99  # in effect every sense SemCor tags (the tagged rule decides)
_NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
million billion first second third fourth fifth half quarter dozen""".split())
NOUN_PERSON = 18  # WordNet's lexicographer file noun.person
_TURNING_SUFFIXES = ("less", "ful", "free")
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


def _lines(path: Path):
    """Data lines of a WordNet file (the licence header lines start with two spaces)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("  "):
                yield line.rstrip("\n")


def read_data(folder: Path) -> tuple[dict[tuple[str, int], list[str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """``(pos, offset) -> lemmas`` of every synset (satellite adjectives filed under ``a``), antonym pairs and
    derivation pairs (WordNet's "derivationally related form" links between word senses), as sorted lemma pairs."""
    synsets: dict[tuple[str, int], list[str]] = {}
    people: set[tuple[str, int]] = set()
    links: list[tuple[str, tuple[str, int], int, tuple[str, int], int]] = []
    for pos, name in POS_FILES.items():
        for line in _lines(folder / f"data.{name}"):
            fields = line.split(" | ")[0].split()
            offset, n_words = int(fields[0]), int(fields[3], 16)
            synsets[(pos, offset)] = [_ADJ_MARKER.sub("", fields[4 + 2 * k]).lower() for k in range(n_words)]
            if int(fields[1]) == NOUN_PERSON:
                people.add((pos, offset))
            at = 4 + 2 * n_words
            for k in range(int(fields[at])):
                symbol, target, target_pos, source_target = fields[at + 1 + 4 * k: at + 5 + 4 * k]
                if symbol in ("!", "+"):  # lexical pointers: source/target word numbers, 1-based
                    target_pos = "a" if target_pos == "s" else target_pos
                    links.append((symbol, (pos, offset), int(source_target[:2], 16), (target_pos, int(target)),
                                  int(source_target[2:], 16)))
    pairs: dict[str, set[tuple[str, str]]] = {"!": set(), "+": set()}
    for symbol, source_synset, source, target_synset, target in links:
        words, others = synsets[source_synset], synsets.get(target_synset, [])
        if symbol == "+" and (source_synset in people or target_synset in people):
            continue  # "donate"/"donor", "employ"/"employee": a person is not the act
        if source and target and source <= len(words) and target <= len(others):
            pairs[symbol].add(tuple(sorted((words[source - 1], others[target - 1]))))
    return synsets, pairs["!"], pairs["+"]


def read_senses(folder: Path, max_senses: int = MAX_SENSES) -> dict[str, list[tuple[str, int]]]:
    """``lemma -> [(pos, offset)]`` of the senses kept (see the module docstring), most frequent first per part of
    speech (so the first of each part of speech is the lemma's main sense)."""
    kept: dict[str, list[tuple[str, int]]] = {}
    for pos, name in POS_FILES.items():
        for line in _lines(folder / f"index.{name}"):
            fields = line.split()
            lemma, n_synsets, n_pointers = fields[0], int(fields[2]), int(fields[3])
            tagged = int(fields[5 + n_pointers])
            offsets = [int(o) for o in fields[6 + n_pointers: 6 + n_pointers + n_synsets]]
            senses = [(pos, o) for rank, o in enumerate(offsets) if rank < max_senses and (rank == 0 or rank < tagged)]
            kept.setdefault(lemma.lower(), []).extend(senses)
    return kept


def main_senses(folder: Path) -> dict[str, list[tuple[str, int]]]:
    """``lemma -> [(pos, offset)]``: each part of speech's first (most frequent) sense of the lemma."""
    first: dict[str, list[tuple[str, int]]] = {}
    for pos, name in POS_FILES.items():
        for line in _lines(folder / f"index.{name}"):
            fields = line.split()
            first.setdefault(fields[0].lower(), []).append((pos, int(fields[6 + int(fields[3])])))
    return first


def read_exceptions(folder: Path) -> dict[str, str]:
    """Irregular form -> base lemma, from ``noun.exc``, ``verb.exc``, ``adj.exc``, ``adv.exc`` (first base wins)."""
    out: dict[str, str] = {}
    for name in POS_FILES.values():
        for line in _lines(folder / f"{name}.exc"):
            fields = line.split()
            if len(fields) >= 2 and fields[0] != fields[1]:
                out.setdefault(fields[0].lower(), fields[1].lower())
    return out


def _numeric(lemma: str) -> bool:
    return any(ch.isdigit() for ch in lemma) or lemma in _NUMBER_WORDS


def _same_stem(a: str, b: str) -> bool:
    """A derivation pair that one stem spells: single words sharing their first four letters ("pregnant" /
    "pregnancy", "absorb" / "absorption"), neither a word whose suffix turns the meaning ("harm" / "harmless").
    Links to a person (noun.person: "donor", "employee", "specialist") are dropped by :func:`read_data`."""
    if "_" in a or "_" in b or min(len(a), len(b)) < 4 or a[:4] != b[:4] or _numeric(a) or _numeric(b):
        return False
    return not any(w.endswith(_TURNING_SUFFIXES) for w in (a, b))


def build(folder: Path, max_senses: int = MAX_SENSES) -> dict:
    synsets, antonyms, derived = read_data(folder)
    senses = read_senses(folder, max_senses)
    members: dict[tuple[str, int], set[str]] = {}
    for lemma, kept in senses.items():
        if len(lemma) < 3 or not re.fullmatch(r"[a-z][a-z_'-]*", lemma):
            continue
        for sense in kept:
            members.setdefault(sense, set()).add(lemma)
    useful = sorted(s for s, lemmas in members.items()
                    if len(lemmas) >= 2 and not any(_numeric(w) for w in synsets[s]))
    number = {s: k for k, s in enumerate(useful)}
    table: dict[str, list[int]] = {}
    for sense in useful:
        for lemma in members[sense]:
            table.setdefault(lemma, []).append(number[sense])
    main = {lemma: sorted(number[s] for s in senses if s in number)
            for lemma, senses in main_senses(folder).items() if lemma in table}
    pairs = sorted([a, b] for a, b in antonyms if a in table and b in table)
    families = sorted([a, b] for a, b in derived if a != b and _same_stem(a, b))
    known = set(table) | {w for pair in families for w in pair}
    exceptions = {form: base for form, base in read_exceptions(folder).items() if base in known}
    return {"source": "WordNet 3.0 (Princeton University), database files of the Debian package wordnet-base",
            "licence": "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
                       "See WORDNET_LICENSE beside this file.",
            "max_senses": max_senses,
            "synsets": {k: sorted(v) for k, v in sorted(table.items())},
            "main": {k: v for k, v in sorted(main.items()) if v != sorted(table[k])},  # absent: every sense
            "exceptions": dict(sorted(exceptions.items())), "antonyms": pairs, "derived": families}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"), help="WordNet 3.0 dict folder")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-senses", type=int, default=MAX_SENSES, help="senses kept per lemma (%(default)s)")
    args = parser.parse_args(argv)
    table = build(args.wordnet, args.max_senses)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(table, separators=(",", ":"), sort_keys=False).encode()
    with gzip.GzipFile(args.out, "wb", mtime=0) as handle:  # mtime 0: the same input gives the same bytes
        handle.write(data)
    print(f"{args.out}: {len(table['synsets'])} lemmas, {len(set(i for v in table['synsets'].values() for i in v))} "
          f"synsets, {len(table['exceptions'])} exceptions, {len(table['antonyms'])} antonym pairs, "
          f"{len(table['derived'])} derivation pairs, "
          f"{args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
