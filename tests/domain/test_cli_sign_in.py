"""Every subcommand signs in: the test walks the parser, so a new command cannot slip through.

With accounts in the data folder and no credentials, each subcommand exits 2 with the
sign-in message (and the failed sign-in is audited); signed in with a role that lacks the
command's permission, each is refused with exit 2 and an ``access.denied`` event.
"""

from __future__ import annotations

import argparse
import sqlite3

import pytest

from medstation.access.roles import ROLE_PERMISSIONS, Access, Permission, Role
from medstation.cli import COMMAND_ACCESS, build_parser, main

STRONG = {"admin": "Admin kettle 42!", "read_only": "Reader lamp 17", "therapist": "Therapy oak 93",
          "radiologist": "Radiology fern 58"}
USERS = {"read_only": "ro.user", "therapist": "ther.user", "radiologist": "rad.user"}
CREDENTIAL_VARS = ("MEDSTATION_USER", "MEDSTATION_PASSWORD", "MEDSTATION_TOKEN_FILE", "MEDSTATION_NEW_PASSWORD",
                   "MEDSTATION_WORKER_TICKET")


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(path, parser) for every runnable subcommand, nested ones included (``kb query``, ``models promote``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaf_commands(sub, prefix + (name,))
            return
    if prefix:
        yield prefix, parser


def _value(action: argparse.Action) -> str:
    if action.choices:
        return str(next(iter(action.choices)))
    return "1" if action.type in (int, float) else "x"


def sample_argv(path: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """A command line that parses: every positional and required option with a placeholder value."""
    argv = list(path)
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        count = action.nargs if isinstance(action.nargs, int) else (0 if action.nargs == "?" else 1)
        if not action.option_strings:
            argv += [_value(action)] * count
        elif action.required:
            argv += [action.option_strings[0], *([_value(action)] * max(count, 1 if action.nargs != 0 else 0))]
    return argv


LEAVES = sorted(leaf_commands(build_parser()), key=lambda item: item[0])
SIGNED = [(path, p) for path, p in LEAVES if COMMAND_ACCESS.get(path) != Access.WINDOW]


def _ids(items):
    return [" ".join(path) for path, _ in items]


@pytest.fixture
def env(monkeypatch):
    from argon2 import PasswordHasher

    from medstation.access import users

    monkeypatch.setattr(users, "password_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def accounts(env, settings):
    """An admin and one account per other role, made through the service (the first-run rule applies)."""
    from medstation.access.roles import Actor, UserSession
    from medstation.access.users import AccountStore
    from medstation.store.database import Database

    db = Database(settings.db_path)
    store = AccountStore(db)
    store.add_user("alice", Role.admin, STRONG["admin"])
    admin = UserSession(Actor("alice", Role.admin))
    for role, name in USERS.items():
        store.add_user(name, role, STRONG[role], session=admin)
    db.close()
    return settings


def _events(settings, actions: tuple[str, ...]) -> list[tuple]:
    con = sqlite3.connect(settings.db_path)
    try:
        marks = ",".join("?" * len(actions))
        return con.execute(f"SELECT actor, action, entity_id, detail FROM audit_event WHERE action IN ({marks}) "
                           "ORDER BY id", actions).fetchall()
    finally:
        con.close()


def test_every_subcommand_has_an_access_rule():
    """A subcommand added to the parser without a line in cli.COMMAND_ACCESS fails here."""
    missing = [" ".join(path) for path, _ in LEAVES if path not in COMMAND_ACCESS]
    assert missing == []
    assert len(LEAVES) >= 30  # the walk reaches nested commands, not just the top level
    assert {("kb", "query"), ("models", "promote"), ("users", "add"), ("audit", "verify")} <= {p for p, _ in LEAVES}
    assert [p for p, _ in LEAVES if COMMAND_ACCESS[p] == Access.WINDOW] == [("gui",)]  # the window signs in itself


@pytest.mark.parametrize("path, parser", SIGNED, ids=_ids(SIGNED))
def test_with_accounts_and_no_credentials_every_subcommand_exits_2(accounts, capsys, path, parser):
    before = len(_events(accounts, ("user.login_failed", "access.denied")))
    assert main(sample_argv(path, parser)) == 2
    err = capsys.readouterr().err
    assert "MEDSTATION_USER" in err or "MEDSTATION_WORKER_TICKET" in err, err
    assert len(_events(accounts, ("user.login_failed", "access.denied"))) == before + 1  # the refusal is audited


def _role_without(permission: Permission) -> Role | None:
    return next((r for r in (Role.read_only, Role.therapist, Role.radiologist)
                 if permission not in ROLE_PERMISSIONS[r]), None)


def _needed(path: tuple[str, ...]) -> Permission | None:
    """The permission a subcommand needs once accounts exist (the first-run ``users add`` then needs manage_users)."""
    rule = COMMAND_ACCESS.get(path)
    if rule == Access.FIRST_RUN_OR_ADMIN:
        return Permission.manage_users
    return rule if isinstance(rule, Permission) else None


GUARDED = [(path, p) for path, p in SIGNED if _needed(path) is not None and _role_without(_needed(path)) is not None]


@pytest.mark.parametrize("path, parser", GUARDED, ids=_ids(GUARDED))
def test_wrong_role_is_refused_and_the_denial_audited(accounts, env, capsys, path, parser):
    need = _needed(path)
    role = _role_without(need)
    env.setenv("MEDSTATION_USER", USERS[role.value])
    env.setenv("MEDSTATION_PASSWORD", STRONG[role.value])
    assert main(sample_argv(path, parser)) == 2
    assert f"({role.value}) may not" in capsys.readouterr().err
    denied = _events(accounts, ("access.denied",))
    assert denied and denied[-1][:3] == (USERS[role.value], "access.denied", need.value)


def test_commands_open_to_every_role_are_the_listed_ones():
    """Commands no signed-in role is refused: they read no patient data beyond what every role may."""
    open_to_all = sorted(" ".join(p) for p, _ in SIGNED if p not in {q for q, _ in GUARDED}
                         and COMMAND_ACCESS[p] != Access.WORKER)
    assert open_to_all == ["ask", "db status", "kb query", "kb status", "self-test", "support check", "users passwd"]


def test_worker_with_a_forged_ticket_is_refused_and_audited(accounts, env, capsys):
    env.setenv("MEDSTATION_WORKER_TICKET", "0" * 64)
    assert main(["selftest-worker", "--steps", "1"]) == 2
    assert "does not match" in capsys.readouterr().err
    assert _events(accounts, ("access.denied",))[-1][:3] == ("anonymous", "access.denied", "selftest-worker")


def test_worker_started_by_a_signed_in_parent_runs(accounts, env):
    """The process lane gives its child a ticket for exactly its argument list."""
    from medstation.jobs import JobContext
    from medstation.process_jobs import run_worker_process

    result = run_worker_process(JobContext(), ["selftest-worker", "--steps", "2"])
    assert result["sum_of_squares"] == 1


def test_help_and_version_need_no_credentials(accounts, capsys):
    for argv in (["--help"], ["--version"], ["kb", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0


def test_signed_in_command_signs_in_once(accounts, env):
    env.setenv("MEDSTATION_USER", "alice")
    env.setenv("MEDSTATION_PASSWORD", STRONG["admin"])
    before = len(_events(accounts, ("user.login",)))
    assert main(["audit", "verify"]) == 0
    assert len(_events(accounts, ("user.login",))) == before + 1


def test_a_therapist_cannot_segment_headlessly(accounts, env, capsys, tmp_path):
    """The issue's example: segment ran with no credentials at all, and for a therapist."""
    image = tmp_path / "slice.png"
    image.write_bytes(b"not read: the sign-in refuses first")
    argv = ["segment", str(image), "--box", "1", "1", "5", "5", "--out", str(tmp_path / "m.png")]
    assert main(argv) == 2
    env.setenv("MEDSTATION_USER", "ther.user")
    env.setenv("MEDSTATION_PASSWORD", STRONG["therapist"])
    assert main(argv) == 2
    assert "ther.user (therapist) may not edit imaging" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()
