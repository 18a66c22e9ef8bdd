"""Meaning checks on their hand-written evaluation sets: counts per kind, development and test halves.

    python benchmarks/eval_support_check.py [--split dev|test|test2|all] [--show-failures dev]
                                            [--support FILE.jsonl ...] [--no-rewrites] [--half even|odd]

* support set (tests/data/support_contradictions.jsonl): a contradiction counts as a failure when it is
  marked supported; a faithful item (subset, paraphrase) when it is not supported by its passage.
* rewrite set (tests/data/rewrite_pairs.jsonl): a flipping rewrite fails when
  :func:`medstation.notes.rewrite.check_rewrite` accepts it, a faithful one when it is refused.

The split is fixed in the files (alternate items of each kind: ``dev``/``test``; ``test2`` is a second
held-out set written later, see docs); rules were tuned on ``dev`` only, and failures are printed only
when asked for a split. ``--support`` replaces the support set by other files of the same schema (for
example ``tests/data/support_dev_extra.jsonl``, development only, or an independently written held-out set).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medstation.llm.support import check_claim  # noqa: E402
from medstation.notes.facts import TranscriptFacts  # noqa: E402
from medstation.notes.rewrite import check_rewrite  # noqa: E402

# Sets written by different people name the entailed items differently; both mean "the passage states it".
FAITHFUL_LABELS = ("supported", "faithful")
SUPPORT_SET = ROOT / "tests" / "data" / "support_contradictions.jsonl"
REWRITE_SET = ROOT / "tests" / "data" / "rewrite_pairs.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def support_results(rows: list[dict]) -> list[tuple[dict, bool, str]]:
    """(row, correct, reason): supported items must cite their own passage; contradictions must be refused."""
    out = []
    for row in rows:
        index, reason = check_claim(row["sentence"], row["passages"])
        correct = index == row["passage"] if row["label"] in FAITHFUL_LABELS else index is None
        out.append((row, correct, reason))
    return out


def rewrite_results(rows: list[dict]) -> list[tuple[dict, bool, str]]:
    out = []
    for row in rows:
        check = check_rewrite(row["source"], row["rewrite"], TranscriptFacts(row["source"]))
        correct = check.ok if row["label"] == "faithful" else not check.ok
        out.append((row, correct, check.reason))
    return out


def table(title: str, results: list[tuple[dict, bool, str]], splits: list[str], positive: str) -> None:
    print(f"\n{title}")
    for split in splits:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        faithful_kinds = set()
        for row, correct, _ in results:
            if row["split"] == split:
                counts[row["kind"]][0] += int(correct)
                counts[row["kind"]][1] += 1
                if row["label"] in FAITHFUL_LABELS + ("faithful",):
                    faithful_kinds.add(row["kind"])
        print(f"  [{split}]")
        bad = good = n_bad = n_good = 0
        for kind in sorted(counts):
            right, n = counts[kind]
            print(f"    {kind:18s} {right:3d}/{n:<3d} correct")
            is_faithful = kind in faithful_kinds  # by each row's label, whatever its kind is called
            if is_faithful:
                good, n_good = good + right, n_good + n
            else:
                bad, n_bad = bad + (n - right), n_bad + n
        print(f"    -> {positive} accepted: {good}/{n_good} = {good / max(n_good, 1):.1%}; "
              f"meaning-changing items accepted: {bad}/{n_bad} = {bad / max(n_bad, 1):.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "test2", "all"), default="all")
    parser.add_argument("--show-failures", choices=("dev", "test", "test2"), default=None)
    parser.add_argument("--support", type=Path, nargs="+", default=[SUPPORT_SET],
                        help="support sets to evaluate (same schema; default: %(default)s)")
    parser.add_argument("--no-rewrites", action="store_true", help="skip the note-rewrite set")
    parser.add_argument("--half", choices=("even", "odd"), default=None,
                        help="only the items at even (1st, 3rd, ...) or odd (2nd, 4th, ...) positions of each file: "
                             "a development set split up front into a tuning and a held-aside part")
    args = parser.parse_args()
    rows = [row for path in args.support for k, row in enumerate(load(path))
            if args.half is None or k % 2 == (args.half == "odd")]
    present = [s for s in ("dev", "test", "test2") if any(r["split"] == s for r in rows)]
    splits = present if args.split == "all" else [args.split]
    support = support_results(rows)
    rewrites = [] if args.no_rewrites else rewrite_results(load(REWRITE_SET))
    table("Support check (medstation support check)", support, splits, "faithful items")
    if rewrites:
        table("Rewrite check (notes.rewrite.check_rewrite)", rewrites, splits, "faithful rewrites")
    if args.show_failures:
        print(f"\nFailures on {args.show_failures}:")
        for row, correct, reason in support + rewrites:
            if not correct and row["split"] == args.show_failures:
                text = row.get("sentence") or f"{row['source']} -> {row['rewrite']}"
                print(f"  {row['id']} {row['kind']:16s} {text}  || {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
