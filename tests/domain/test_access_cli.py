"""The fixed command-line interface: users add/token, sign-in from the environment, audit verify/export."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from medstation.cli import main


@pytest.fixture
def env(monkeypatch):
    from argon2 import PasswordHasher

    from medstation.access import users

    monkeypatch.setattr(users, "password_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name in ("MEDSTATION_USER", "MEDSTATION_PASSWORD", "MEDSTATION_TOKEN_FILE", "MEDSTATION_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _admin(env):
    env.setenv("MEDSTATION_PASSWORD", "admin password")
    assert main(["users", "add", "alice", "--role", "admin"]) == 0
    env.setenv("MEDSTATION_USER", "alice")


def test_fresh_folder_runs_single_user_and_says_so(env, capsys):
    assert main(["audit", "verify"]) == 0
    err = capsys.readouterr().err
    assert "single-user mode" in err and "(admin)" in err


def test_first_account_must_be_an_admin(env, capsys):
    env.setenv("MEDSTATION_PASSWORD", "some password")
    assert main(["users", "add", "bob", "--role", "therapist"]) == 2
    assert "must be an admin" in capsys.readouterr().err
    assert main(["users", "add", "alice", "--role", "admin"]) == 0


def test_once_accounts_exist_commands_need_credentials(env, capsys, medstation_home):
    _admin(env)
    env.delenv("MEDSTATION_USER")
    assert main(["audit", "verify"]) == 2
    assert "set MEDSTATION_USER and MEDSTATION_PASSWORD" in capsys.readouterr().err
    env.setenv("MEDSTATION_USER", "alice")
    env.setenv("MEDSTATION_PASSWORD", "wrong password")
    assert main(["audit", "verify"]) == 2
    assert "Wrong user name or password" in capsys.readouterr().err
    env.setenv("MEDSTATION_PASSWORD", "admin password")
    assert main(["audit", "verify"]) == 0
    con = sqlite3.connect(medstation_home / "medstation.db")
    failed = con.execute("SELECT actor FROM audit_event WHERE action = 'user.login_failed'").fetchall()
    assert failed == [("anonymous",), ("alice",)]  # every event has an actor, even a sign-in that named no one


def test_admin_adds_users_and_issues_a_token(env, capsys, tmp_path):
    _admin(env)
    env.setenv("MEDSTATION_NEW_PASSWORD", "radiology pw")
    assert main(["users", "add", "rita", "--role", "radiologist"]) == 0
    token_file = tmp_path / "rita.token"
    assert main(["users", "token", "rita", "--out", str(token_file)]) == 0
    assert token_file.stat().st_mode & 0o777 == 0o600
    for name in ("MEDSTATION_USER", "MEDSTATION_PASSWORD"):
        env.delenv(name)
    env.setenv("MEDSTATION_TOKEN_FILE", str(token_file))
    capsys.readouterr()
    assert main(["audit", "verify"]) == 2  # a radiologist may not read the audit trail
    assert "rita (radiologist) may not view audit" in capsys.readouterr().err
    assert main(["users", "token", "rita", "--out", str(tmp_path / "again")]) == 2


def test_non_admin_cannot_add_users(env, capsys):
    _admin(env)
    env.setenv("MEDSTATION_NEW_PASSWORD", "therapy pw!")
    assert main(["users", "add", "tom", "--role", "therapist"]) == 0
    env.setenv("MEDSTATION_USER", "tom")
    env.setenv("MEDSTATION_PASSWORD", "therapy pw!")
    env.setenv("MEDSTATION_NEW_PASSWORD", "another pw")
    assert main(["users", "add", "eve", "--role", "admin"]) == 2
    assert "may not manage users" in capsys.readouterr().err


@pytest.mark.parametrize("tamper, bad_id", [
    ("UPDATE audit_event SET entity_id = 'other' WHERE id = 2", 2),
    ("DELETE FROM audit_event WHERE id = 2", 3),
    ("UPDATE audit_event SET id = -1 WHERE id = 2; UPDATE audit_event SET id = 2 WHERE id = 3;"
     " UPDATE audit_event SET id = 3 WHERE id = -1", 2),
], ids=["edited", "deleted", "reordered"])
def test_audit_verify_names_the_first_bad_event(env, capsys, medstation_home, tamper, bad_id):
    _admin(env)
    for _ in range(3):
        assert main(["audit", "verify"]) == 0  # each run's sign-in is itself an event
    con = sqlite3.connect(medstation_home / "medstation.db")
    con.executescript(tamper)
    con.close()
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    assert f"BROKEN at event {bad_id}:" in capsys.readouterr().out


def test_audit_export_csv_and_json(env, tmp_path):
    _admin(env)
    assert main(["audit", "export", "--since", "2000-01-01", "--format", "json", "--out", str(tmp_path / "a.json")]) == 0
    events = json.loads((tmp_path / "a.json").read_text())
    assert [e["action"] for e in events] == ["user.add", "user.login"]
    assert events[1]["actor"] == "alice" and events[1]["role"] == "admin" and len(events[1]["event_hash"]) == 64
    assert main(["audit", "export", "--since", "2000-01-01", "--out", str(tmp_path / "a.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "a.csv").open()))
    assert [r["action"] for r in rows] == ["user.add", "user.login", "audit.export", "user.login"]
    assert main(["audit", "export", "--since", "2999-01-01", "--format", "json", "--out", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text()) == []
    assert main(["audit", "export", "--since", "yesterday", "--out", str(tmp_path / "c.csv")]) == 2
