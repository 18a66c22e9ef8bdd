"""``medstation self-test`` (also ``medstation --self-test``): every part of the workstation once, one JSON object.

Opens the main window offscreen in a temporary data folder, loads the sample study, segments with a
box, answers a knowledge-base question with citations, lets the embedded model write, drafts a note,
runs a worker child and opens an encrypted store (:mod:`medstation.ui.selftest`). Prints one JSON
object ``{"ok", "version", "frozen", "seconds", "cpu_count", "steps": [{"name", "ok", "seconds", ...}]}``.
Exit status 0 only when every step produced real output, else 1. The user's data folder is not touched.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("self-test", help="check every part once in a temporary data folder; prints one JSON object")
    p.add_argument("--out", default="", help="also write the JSON here")
    p.add_argument("--cold-start", action="store_true",
                   help="only open the window and show the sample study (the cold-start steps, timed from launch)")
    p.add_argument("--data-folder", default="",
                   help="use and keep this data folder instead of a temporary one (a second launch on it times a "
                        "start with the store already made)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from medstation.ui.selftest import run_self_test

    report = run_self_test(cold_start_only=args.cold_start, data_folder=Path(args.data_folder) if args.data_folder else None)
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text, flush=True)
    return 0 if report["ok"] else 1
