"""Clinic mode's engine choice: a PostgreSQL URL, TLS off loopback, a plain error (never a local fallback)."""

from __future__ import annotations

import socket

import pytest

from medstation.access.encryption import open_store
from medstation.store.database import Database
from medstation.store.engine import ServerUnreachable, describe, server_connect_args


def test_tls_is_required_off_loopback_only():
    remote = server_connect_args("postgresql+psycopg://app:pw@db.clinic.lan:5432/medstation")
    assert remote["sslmode"] == "require"
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert "sslmode" not in server_connect_args(f"postgresql+psycopg://app:pw@{host}:5432/medstation")
    # a stricter mode named in the URL is kept, not weakened
    assert "sslmode" not in server_connect_args("postgresql+psycopg://app:pw@db.lan/m?sslmode=verify-full")


def test_other_drivers_are_refused_with_the_expected_form():
    from medstation.errors import UserFacingError

    with pytest.raises(UserFacingError, match=r"postgresql\+psycopg://"):
        server_connect_args("postgresql+asyncpg://app:pw@127.0.0.1/m")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server_says_so_and_creates_no_local_store(settings, monkeypatch):
    url = f"postgresql+psycopg://app:secret@127.0.0.1:{_closed_port()}/medstation"
    monkeypatch.setenv("MEDSTATION_DATABASE_URL", url)
    from medstation.config import Settings

    with pytest.raises(ServerUnreachable) as caught:
        open_store(Settings())
    message = str(caught.value)
    assert "Cannot reach the clinic database server 127.0.0.1" in message
    assert "does not fall back to a local store" in message
    assert "secret" not in message
    assert not settings.db_path.exists()  # no SQLite file appeared in the data folder


def test_settings_url_opens_the_server_store(settings, pg_url, monkeypatch):
    monkeypatch.setenv("MEDSTATION_DATABASE_URL", pg_url)
    from medstation.config import Settings

    db = open_store(Settings())
    try:
        assert db.path is None and db.engine.dialect.name == "postgresql"
        db.audit("clinic.opened", actor="ada")
        line = describe(db.engine)
        assert line.startswith("PostgreSQL ") and "TLS off" in line and "127.0.0.1" in line
    finally:
        db.close()
    assert not settings.db_path.exists()


def test_sslmode_reaches_the_driver(pg_url):
    """The loopback test server has no TLS: asking for it must fail, which shows the mode is really sent."""
    with pytest.raises(ServerUnreachable, match="SSL|ssl"):
        Database(pg_url + "?sslmode=require")


def test_cli_on_an_unreachable_server_exits_2_and_never_opens_a_local_store(settings, monkeypatch, capsys):
    monkeypatch.setenv("MEDSTATION_DATABASE_URL", f"postgresql+psycopg://app:secret@127.0.0.1:{_closed_port()}/m")
    from medstation.cli import main

    for command in (["audit", "verify"], ["backup", str(settings.home.parent / "bk")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "Cannot reach the clinic database server" in err and "secret" not in err
    assert not settings.db_path.exists()
