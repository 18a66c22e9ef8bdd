"""Command line: ``medstation`` opens the window; subcommands do headless work.

Each subcommand lives in ``medstation/commands/<name>.py`` with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at module level, so ``medstation --help`` stays instant.

Every subcommand signs in here, once, before it runs: :data:`COMMAND_ACCESS` names what
each one needs (a permission, or one of the few :class:`~medstation.access.headless.Access`
rules), and :func:`~medstation.access.headless.command_sign_in` enforces it once the data
folder has accounts. A subcommand missing from the table is an internal error, and
``tests/domain/test_cli_sign_in.py`` walks the parser so none can be added without an entry.

Exit status: 0 success; 2 a user error (any :class:`~medstation.errors.UserFacingError`
raised by a command, a failed sign-in or a refused permission: the sentence goes to stderr);
1 an internal error (the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from medstation import __version__
from medstation.access.roles import Access, Permission
from medstation.errors import UserFacingError

# Subcommand modules, in the order --help lists them.
COMMAND_MODULES = (
    "medstation.commands.gui",
    "medstation.commands.index",
    "medstation.commands.segment",
    "medstation.commands.kb",
    "medstation.commands.ask",
    "medstation.commands.notes",
    "medstation.commands.transcribe",
    "medstation.commands.deid",
    "medstation.commands.train",
    "medstation.commands.models",
    "medstation.commands.users",
    "medstation.commands.audit",
    "medstation.commands.backup",
    "medstation.commands.db",
    "medstation.commands.workers",
    "medstation.commands.support",
    "medstation.commands.pacs",
    "medstation.commands.train_agent",
    "medstation.commands.selftest",
)


# What each subcommand (its path in the parser) needs once the data folder has accounts.
# A new subcommand needs a line here, or test_cli_sign_in fails; a line for a command that
# is not (yet) in the parser is harmless.
COMMAND_ACCESS: dict[tuple[str, ...], Permission | str] = {
    ("gui",): Access.WINDOW,
    ("index",): Permission.view_imaging,
    ("segment",): Permission.edit_imaging,
    ("segment-eval",): Permission.edit_imaging,
    ("kb", "ingest"): Permission.manage_kb,
    ("kb", "query"): Permission.use_chat,
    ("kb", "eval"): Permission.manage_kb,
    ("kb", "status"): Permission.use_chat,
    ("ask",): Permission.use_chat,
    ("support", "check"): Access.ANY_ROLE,  # read-only: checks sentences against passages it is given
    ("notes", "draft"): Permission.edit_notes,
    ("notes", "eval"): Permission.edit_notes,
    ("transcribe",): Permission.edit_notes,
    ("deid",): Permission.export_imaging,
    ("train", "segmentation"): Permission.train_models,
    ("train", "llm"): Permission.train_models,
    ("train-worker",): Access.WORKER,
    ("models", "list"): Permission.manage_models,
    ("models", "compare"): Permission.manage_models,
    ("models", "promote"): Permission.manage_models,
    ("models", "rollback"): Permission.manage_models,
    ("users", "add"): Access.FIRST_RUN_OR_ADMIN,
    ("users", "token"): Permission.manage_users,
    ("users", "list"): Permission.manage_users,
    ("users", "unlock"): Permission.manage_users,
    ("users", "passwd"): Access.ANY_ROLE,  # your own password; the service asks manage_users for anyone else's
    ("audit", "verify"): Permission.view_audit,
    ("audit", "export"): Permission.view_audit,
    ("backup",): Permission.backup_restore,
    ("restore",): Permission.backup_restore,
    ("db", "encrypt"): Permission.backup_restore,
    ("db", "status"): Access.ANY_ROLE,
    ("db", "copy"): Permission.backup_restore,  # the whole store and its files into the clinic server
    ("db", "migrate"): Permission.backup_restore,  # clinic server schema, once per upgrade
    ("train-agent",): Permission.train_models,
    ("selftest-worker",): Access.WORKER,
    ("self-test",): Access.ANY_ROLE,  # runs in its own temporary data folder, never the user's
    ("pacs", "echo"): Permission.view_imaging,
    ("pacs", "query"): Permission.view_imaging,
    ("pacs", "retrieve"): Permission.view_imaging,  # imports into the local index, as `index` does
    ("pacs", "listen"): Permission.view_imaging,
    ("pacs", "send"): Permission.export_imaging,  # data leaves the workstation
}


def command_path(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, ...]:
    """The chosen subcommand as its names in the parser, e.g. ``("kb", "query")``; ``("gui",)`` for none."""
    path: list[str] = []
    while True:
        subparsers = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        name = getattr(args, subparsers.dest, None) if subparsers is not None else None
        if name is None:
            return tuple(path) or ("gui",)
        path.append(name)
        parser = subparsers.choices[name]


def _command_modules():
    """Every listed module, imported unconditionally: a missing one fails loudly, never vanishes from --help."""
    for name in COMMAND_MODULES:
        yield importlib.import_module(name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medstation", description="Offline clinical workstation.")
    parser.add_argument("--version", action="version", version=f"medstation {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for module in _command_modules():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 success, 2 a user error (message on stderr), 1 an internal error."""
    # lazy: --help must not load the store (SQLAlchemy: ~4 s of the import under load)
    from medstation.access.headless import command_sign_in
    from medstation.config import Settings

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--self-test"]:  # the installer's spelling of the `self-test` subcommand
        argv = ["self-test", *argv[1:]]
    parser = build_parser()
    args = parser.parse_args(argv)
    path = command_path(parser, args)
    if path not in COMMAND_ACCESS:
        raise RuntimeError(f"`medstation {' '.join(path)}` has no line in cli.COMMAND_ACCESS")
    try:
        settings = Settings()  # clinic mode: accounts are on the server (database_url), never a local file
        with command_sign_in(path, COMMAND_ACCESS[path], argv, db_path=settings.database_url or settings.db_path):
            if args.command is None:
                from medstation.commands import gui

                return gui.run(args)
            return int(args.func(args) or 0)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
