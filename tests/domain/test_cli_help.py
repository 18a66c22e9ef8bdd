"""`medstation --version` exists and every subcommand argument says what it is for."""

from __future__ import annotations

import argparse

import pytest

from medstation import __version__
from medstation.cli import build_parser, main


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"medstation {__version__}"


def _missing_help(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):  # nested commands: check each one's arguments
            for name, command in action.choices.items():
                out += _missing_help(command, f"{prefix} {name}".strip())
        elif not (action.help or "").strip():
            out.append(f"{prefix} {'/'.join(action.option_strings) or action.dest}".strip())
    return out


def test_every_argument_has_help():
    assert _missing_help(build_parser(), "") == []
