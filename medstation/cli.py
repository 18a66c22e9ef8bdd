"""Command line: ``medstation`` opens the window; subcommands do headless work.

Each subcommand lives in ``medstation/commands/<name>.py`` with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at module level, so ``medstation --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order --help lists them.
COMMAND_MODULES = (
    "medstation.commands.gui",
    "medstation.commands.index",
    "medstation.commands.segment",
    "medstation.commands.kb",
    "medstation.commands.ask",
    "medstation.commands.notes",
    "medstation.commands.deid",
    "medstation.commands.train",
    "medstation.commands.models",
    "medstation.commands.users",
    "medstation.commands.audit",
    "medstation.commands.backup",
    "medstation.commands.workers",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medstation", description="Offline clinical workstation.")
    sub = parser.add_subparsers(dest="command")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet on this branch
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from medstation.commands import gui

        return gui.run(args)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
