"""``medstation support check FILE.jsonl [--json]``: is each sentence stated, with the same meaning, by a passage?

Input: one JSON object per line, ``{"sentence": "...", "passages": ["...", ...]}`` (blank lines skipped).
Output, one per input line in order: ``{"supported": true|false, "passage": n|null, "reason": "..."}``
where ``passage`` is the **0-based** index into that line's ``passages`` of the first passage that states
the sentence (``null`` when none does) and ``reason`` says why not (empty when supported). With ``--json``
exactly one JSON object per line (JSON Lines); without it a readable line per item.

The check is :mod:`medstation.llm.support` (the chat's): negation scope, direction, quantifiers, modality,
numbers with units and swapped roles must all agree. It reads no database and needs no model.
Exit status: 0 success; 2 a user error (missing file, a line that is not such a JSON object: named by number).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medstation.errors import UserFacingError


def add_parser(sub) -> None:
    p = sub.add_parser("support", help="check sentences against passages with the chat's meaning-aware support check")
    actions = p.add_subparsers(dest="support_command", required=True)
    check = actions.add_parser(
        "check", help="check each {sentence, passages} line of a JSON Lines file",
        description="Each input line: {\"sentence\": \"...\", \"passages\": [\"...\", ...]}. Output per line: "
                    "{\"supported\": bool, \"passage\": n|null, \"reason\": \"...\"}; passage n is the 0-based "
                    "index into that line's passages.")
    check.add_argument("file", metavar="FILE.jsonl", help="JSON Lines file of {sentence, passages} objects")
    check.add_argument("--json", action="store_true", help="print exactly one JSON object per input line")
    check.set_defaults(func=run)


def read_items(path: str) -> list[tuple[str, list[str]]]:
    """(sentence, passages) per non-blank line of ``path``; a clear :class:`UserFacingError` naming the line."""
    file = Path(path)
    if not file.is_file():
        raise UserFacingError(f"no such file: {path}")
    items = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserFacingError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("sentence"), str) or \
                not isinstance(data.get("passages"), list) or not all(isinstance(p, str) for p in data["passages"]):
            raise UserFacingError(f'{path}, line {number}: expected {{"sentence": "...", "passages": ["...", ...]}}')
        items.append((data["sentence"], list(data["passages"])))
    return items


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.llm.support import check_claim

    for sentence, passages in read_items(args.file):
        index, reason = check_claim(sentence, passages)
        result = {"supported": index is not None, "passage": index, "reason": reason}
        if args.json:
            print(json.dumps(result), flush=True)
        elif index is not None:
            print(f"supported by passage {index}: {sentence}")
        else:
            print(f"NOT supported ({reason}): {sentence}")
    return 0
