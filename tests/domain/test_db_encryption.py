"""SQLCipher at rest: round trip, wrong key, migrations, in-place conversion, backup/restore of an encrypted store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from medstation.access import encryption
from medstation.access.backup import backup_store, restore_store
from medstation.access.db_convert import encrypt_store
from medstation.access.encryption import KdfCost, KeyRequired, WrongKey, create_key_header, open_database
from medstation.errors import UserFacingError
from medstation.store import sqlcipher
from medstation.store.audit_chain import verify_chain
from medstation.store.database import Database, alembic_config, make_engine
from tests.domain.test_access_backup import _file_hashes, _populate

PASS = "correct horse battery"
CHEAP = KdfCost(time_cost=1, memory_kib=1024, parallelism=1)  # the real cost (64 MiB) is not what is tested here


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch):
    for name in (encryption.ENV_KEY, encryption.ENV_PASSPHRASE):
        monkeypatch.setenv(name, "")  # recorded, so whatever a test (or the dialog) sets is undone after it
        monkeypatch.delenv(name)


def _records(db_file: Path, key: bytes | None) -> dict[str, list[tuple]]:
    con = sqlcipher.connect(db_file, key)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in sorted(names)}
    finally:
        con.close()


def _new_encrypted(path: Path, monkeypatch) -> Database:
    create_key_header(path, passphrase=PASS, cost=CHEAP)  # what the window's dialog does before the first open
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    return open_database(path, encrypt_new="passphrase")


def test_round_trip_wrong_key_and_no_key(tmp_path, monkeypatch):
    path = tmp_path / "medstation.db"
    db = _new_encrypted(path, monkeypatch)
    assert db.encrypted
    event_id = db.audit("note.signed", actor="t.okafor", entity="note", entity_id=7)
    db.close()
    assert path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert b"t.okafor" not in path.read_bytes()

    db = open_database(path)  # key from MEDSTATION_DB_PASSPHRASE
    with db.session() as s:
        assert s.execute(text("SELECT actor FROM audit_event WHERE id = :i"), {"i": event_id}).scalar() == "t.okafor"
    with db.engine.connect() as conn:
        assert verify_chain(conn.connection.driver_connection).intact
    db.close()

    monkeypatch.setenv(encryption.ENV_PASSPHRASE, "not the passphrase")
    with pytest.raises(WrongKey, match="passphrase .* is wrong") as caught:
        open_database(path)
    assert isinstance(caught.value, UserFacingError)
    monkeypatch.delenv(encryption.ENV_PASSPHRASE)
    with pytest.raises(KeyRequired, match=encryption.ENV_PASSPHRASE):
        open_database(path)
    with pytest.raises(WrongKey):  # a raw key that is not this store's
        sqlcipher.connect(path, b"\x00" * 32)
    with pytest.raises(KeyRequired, match="encrypted"):  # the store never looks for a key itself
        Database(path)


def test_kek_in_env_opens_without_passphrase(tmp_path, monkeypatch):
    """The window asks once and hands the KEK to its child workers in MEDSTATION_DB_KEY."""
    path = tmp_path / "medstation.db"
    header, kek = create_key_header(path, passphrase=PASS, cost=CHEAP)
    monkeypatch.setenv(encryption.ENV_KEY, kek.hex())
    open_database(path, encrypt_new="passphrase").close()
    assert open_database(path).encrypted


def test_new_folder_needs_a_passphrase_when_encryption_is_on(tmp_path):
    with pytest.raises(KeyRequired, match="at least"):
        open_database(tmp_path / "medstation.db", encrypt_new="passphrase")
    assert not (tmp_path / "medstation.db").exists()


def test_migrations_run_on_an_encrypted_database(tmp_path, monkeypatch):
    path = tmp_path / "medstation.db"
    header, kek = create_key_header(path, passphrase=PASS, cost=CHEAP)
    key = encryption.unwrap_db_key(header, kek)
    engine = make_engine(path, key)
    command.upgrade(alembic_config(engine), "0003")  # an older release's schema
    engine.dispose()
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    db = open_database(path)  # brings it to head, through the keyed engine
    with db.session() as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert s.execute(text("SELECT count(*) FROM user_account")).scalar() == 0  # 0004's table exists
    db.close()


def _head() -> str:
    from alembic.script import ScriptDirectory

    from medstation.store.database import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_conversion_preserves_every_row_and_the_chain(settings, monkeypatch):
    _populate(settings)
    before = _records(settings.db_path, None)
    report = encrypt_store(settings.db_path, passphrase=PASS, cost=CHEAP)
    assert report.table_rows["user_account"] == 2 and not report.kept_original
    assert not encryption.is_plaintext_sqlite(settings.db_path)
    assert not list(settings.home.glob("medstation.db.plaintext-*"))  # verified, so the original is gone
    assert not list(settings.home.glob("*.encrypting")) and not list(settings.home.glob("*.pending"))
    key = encryption.database_key(settings.db_path, passphrase=PASS)
    assert _records(settings.db_path, key) == before
    con = sqlcipher.connect(settings.db_path, key)
    assert verify_chain(con).intact
    con.close()
    with pytest.raises(UserFacingError, match="already encrypted"):
        encrypt_store(settings.db_path, passphrase=PASS, cost=CHEAP)


def test_conversion_that_fails_verification_keeps_the_plaintext(settings, monkeypatch):
    _populate(settings)
    before = _records(settings.db_path, None)
    from medstation.access import db_convert

    real = db_convert.row_counts

    def lying_counts(con):  # as if sqlcipher_export had dropped a row of the copy
        counts = real(con)
        if con.execute("PRAGMA database_list").fetchone()[2].endswith(".encrypting"):
            counts["user_account"] -= 1
        return counts

    monkeypatch.setattr(db_convert, "row_counts", lying_counts)
    with pytest.raises(UserFacingError, match="did not verify.*user_account 2→1"):
        encrypt_store(settings.db_path, passphrase=PASS, cost=CHEAP)
    assert encryption.is_plaintext_sqlite(settings.db_path)
    assert encryption.read_header(settings.db_path) is None
    assert _records(settings.db_path, None) == before
    assert not list(settings.home.glob("*.encrypting"))


def test_interrupted_swap_is_finished_on_next_open(settings, monkeypatch):
    """Crash between "encrypted file in place" and "header in place": the pending header is promoted."""
    _populate(settings)
    encrypt_store(settings.db_path, passphrase=PASS, cost=CHEAP, keep_original=True)
    header = encryption.header_path(settings.db_path)
    header.rename(header.with_name(header.name + ".pending"))
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    db = open_database(settings.db_path)
    assert db.encrypted and header.exists()
    db.close()
    assert len(list(settings.home.glob("medstation.db.plaintext-*"))) == 1  # --keep-original


def test_backup_and_restore_of_an_encrypted_store(settings, tmp_path, monkeypatch):
    _populate(settings)
    encrypt_store(settings.db_path, passphrase=PASS, cost=CHEAP)
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    key = encryption.database_key(settings.db_path)
    before_records, before_files = _records(settings.db_path, key), _file_hashes(settings.home)
    manifest = backup_store(settings.home, tmp_path / "bk")
    assert "medstation.key.json" in manifest.files and manifest.table_rows["user_account"] == 2
    assert not encryption.is_plaintext_sqlite(tmp_path / "bk" / "medstation.db")

    shutil.rmtree(settings.home)
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, "a wrong passphrase")
    with pytest.raises(WrongKey):
        restore_store(tmp_path / "bk", settings.home)
    assert not (settings.home / "medstation.db").exists()  # refused before anything was copied
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    restore_store(tmp_path / "bk", tmp_path / "elsewhere")
    restored = tmp_path / "elsewhere" / "medstation.db"
    records = _records(restored, key)
    assert records["user_account"] == before_records["user_account"]
    assert records["audit_event"] == before_records["audit_event"]
    assert _file_hashes(tmp_path / "elsewhere") == before_files
    mask_path = records["segmentation"][0]
    assert any(str(v).startswith(str((tmp_path / "elsewhere").resolve())) for v in mask_path)  # paths re-pointed


def test_db_encrypt_cli(settings, monkeypatch, capsys):
    from medstation.cli import main

    for name in ("MEDSTATION_USER", "MEDSTATION_PASSWORD", "MEDSTATION_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    _populate(settings)
    monkeypatch.setenv("MEDSTATION_USER", "rita")
    monkeypatch.setenv("MEDSTATION_PASSWORD", "radiology pw")
    monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
    assert main(["db", "encrypt"]) == 2  # radiologists do not
    assert encryption.is_plaintext_sqlite(settings.db_path)
    monkeypatch.setenv("MEDSTATION_USER", "alice")
    monkeypatch.setenv("MEDSTATION_PASSWORD", "admin password")
    assert main(["db", "encrypt"]) == 0
    assert "row counts equal" in capsys.readouterr().out
    assert main(["db", "status"]) == 0
    assert "encrypted with SQLCipher" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0
    monkeypatch.delenv(encryption.ENV_PASSPHRASE)
    assert main(["audit", "verify"]) == 2  # no key: a clear user error, not a traceback
    assert encryption.ENV_PASSPHRASE in capsys.readouterr().err


class _MemoryKeyring:
    """An OS keyring stand-in (keyring's backend interface), so the keyring path runs on a headless machine."""

    @staticmethod
    def make():
        from keyring.backend import KeyringBackend

        class MemoryKeyring(KeyringBackend):
            priority = 1
            store: dict = {}

            def get_password(self, service, username):
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                self.store.pop((service, username), None)

        return MemoryKeyring()


def test_keyring_key_opens_without_passphrase_and_headless_falls_back(tmp_path, monkeypatch):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    backend = _MemoryKeyring.make()
    keyring.set_keyring(backend)
    try:
        path = tmp_path / "kr" / "medstation.db"
        open_database(path, encrypt_new="keyring").close()
        assert encryption.read_header(path).key_source == "keyring" and len(backend.store) == 1
        assert open_database(path).encrypted  # no passphrase anywhere: the key comes from the keyring
        backend.store.clear()
        with pytest.raises(KeyRequired, match="keyring has no entry"):
            open_database(path)

        keyring.set_keyring(fail.Keyring())  # headless Linux: no backend
        with pytest.raises(KeyRequired, match="no OS keyring backend.*MEDSTATION_DB_PASSPHRASE"):
            open_database(tmp_path / "headless" / "medstation.db", encrypt_new="keyring")
        monkeypatch.setenv(encryption.ENV_PASSPHRASE, PASS)
        db = open_database(tmp_path / "headless" / "medstation.db", encrypt_new="keyring")  # falls back to the passphrase
        assert db.encrypted and encryption.read_header(db.path).key_source == "passphrase"
        db.close()
    finally:
        keyring.set_keyring(previous)
