"""Command line: ``medstation`` opens the window; subcommands do headless work.

Each subcommand lives in ``medstation/commands/<name>.py`` with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at module level, so ``medstation --help`` stays instant.

Exit status: 0 success; 2 a user error (any :class:`~medstation.errors.UserFacingError`
raised by a command: the sentence goes to stderr); 1 an internal error (the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from medstation.errors import UserFacingError

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
    "medstation.commands.db",
    "medstation.commands.workers",
    "medstation.commands.support",
)


def _command_modules():
    """Every listed module, imported unconditionally: a missing one fails loudly, never vanishes from --help."""
    for name in COMMAND_MODULES:
        yield importlib.import_module(name)


def build_parser() -> argparse.ArgumentParser:
    from medstation import __version__

    parser = argparse.ArgumentParser(prog="medstation", description="Offline clinical workstation.")
    parser.add_argument("--version", action="version", version=f"medstation {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for module in _command_modules():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 success, 2 a user error (message on stderr), 1 an internal error."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from medstation.commands import gui

            return gui.run(args)
        return int(args.func(args) or 0)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
