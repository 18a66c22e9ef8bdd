"""Build ``resources/lexicon/wordnet_synonyms.json.gz``: a compact synonym table from WordNet 3.0 for the support check.

The support check (:mod:`medstation.llm.word_alignment`) lets a claim word match a passage word when both name one
WordNet synset ("skip"/"miss", "lower"/"reduce", "seldom"/"rarely"). Only *synonyms* go in: lemmas of the same
synset, never hypernyms, hyponyms or "similar to" clusters (co-hyponyms such as two drugs of one class, or
"increase"/"decrease", never share a synset). Rare senses are dropped, because a lemma's rare sense makes odd
pairs ("dose" is also a slang name of LSD, so it shares a synset with "acid"): a lemma keeps a synset only when it
is among its first :data:`MAX_SENSES` senses in WordNet's frequency order and, past the first sense, when the
sense is tagged in the SemCor counts (``tagsense_cnt`` of the index files). A synset left with fewer than two
lemmas says no synonym and is dropped; so are synsets of numbers ("one"/"ace"/"single").

Output (gzip'd JSON, keys sorted, deterministic):

* ``synsets``: lemma (lower case, multiword lemmas joined by ``_``) -> list of synset numbers (0-based, renumbered);
* ``exceptions``: WordNet's irregular forms (``*.exc``) -> base lemmas (``given`` -> ``give``, ``children`` -> ``child``),
  restricted to forms whose base is in ``synsets``;
* ``antonyms``: lemma pairs WordNet links as antonyms (any sense): never matched, even where another sense of
  the two words shares a synset;
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
MAX_SENSES = 3
_NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
million billion first second third fourth fifth half quarter dozen""".split())
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


def _lines(path: Path):
    """Data lines of a WordNet file (the licence header lines start with two spaces)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("  "):
                yield line.rstrip("\n")


def read_data(folder: Path) -> tuple[dict[tuple[str, int], list[str]], set[tuple[str, str]]]:
    """``(pos, offset) -> lemmas`` of every synset (satellite adjectives filed under ``a``) and antonym pairs."""
    synsets: dict[tuple[str, int], list[str]] = {}
    antonym_refs: list[tuple[str, int, int, str, int, int]] = []
    for pos, name in POS_FILES.items():
        for line in _lines(folder / f"data.{name}"):
            fields = line.split(" | ")[0].split()
            offset, n_words = int(fields[0]), int(fields[3], 16)
            words = [_ADJ_MARKER.sub("", fields[4 + 2 * k]).lower() for k in range(n_words)]
            synsets[(pos, offset)] = words
            at = 4 + 2 * n_words
            for k in range(int(fields[at])):
                symbol, target, target_pos, source_target = fields[at + 1 + 4 * k: at + 5 + 4 * k]
                if symbol == "!":
                    target_pos = "a" if target_pos == "s" else target_pos
                    antonym_refs.append((pos, offset, int(source_target[:2], 16), target_pos, int(target),
                                         int(source_target[2:], 16)))
    antonyms = set()
    for pos, offset, source, target_pos, target_offset, target_word in antonym_refs:
        words, others = synsets[(pos, offset)], synsets.get((target_pos, target_offset), [])
        if source and target_word and source <= len(words) and target_word <= len(others):
            antonyms.add(tuple(sorted((words[source - 1], others[target_word - 1]))))
    return synsets, antonyms


def read_senses(folder: Path) -> dict[str, list[tuple[str, int]]]:
    """``lemma -> [(pos, offset)]`` of the senses kept (see the module docstring), most frequent first."""
    kept: dict[str, list[tuple[str, int]]] = {}
    for pos, name in POS_FILES.items():
        for line in _lines(folder / f"index.{name}"):
            fields = line.split()
            lemma, n_synsets, n_pointers = fields[0], int(fields[2]), int(fields[3])
            tagged = int(fields[5 + n_pointers])
            offsets = [int(o) for o in fields[6 + n_pointers: 6 + n_pointers + n_synsets]]
            senses = [(pos, o) for rank, o in enumerate(offsets) if rank < MAX_SENSES and (rank == 0 or rank < tagged)]
            kept.setdefault(lemma.lower(), []).extend(senses)
    return kept


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


def build(folder: Path) -> dict:
    synsets, antonyms = read_data(folder)
    senses = read_senses(folder)
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
    exceptions = {form: base for form, base in read_exceptions(folder).items() if base in table}
    pairs = sorted([a, b] for a, b in antonyms if a in table and b in table)
    return {"source": "WordNet 3.0 (Princeton University), database files of the Debian package wordnet-base",
            "licence": "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
                       "See WORDNET_LICENSE beside this file.",
            "max_senses": MAX_SENSES,
            "synsets": {k: sorted(v) for k, v in sorted(table.items())},
            "exceptions": dict(sorted(exceptions.items())), "antonyms": pairs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"), help="WordNet 3.0 dict folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = build(args.wordnet)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(table, separators=(",", ":"), sort_keys=False).encode()
    with gzip.GzipFile(args.out, "wb", mtime=0) as handle:  # mtime 0: the same input gives the same bytes
        handle.write(data)
    print(f"{args.out}: {len(table['synsets'])} lemmas, {len(set(i for v in table['synsets'].values() for i in v))} "
          f"synsets, {len(table['exceptions'])} exceptions, {len(table['antonyms'])} antonym pairs, "
          f"{args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
