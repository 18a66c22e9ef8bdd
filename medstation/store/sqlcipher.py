"""Connections to the database file, plaintext or SQLCipher-encrypted.

How pages are keyed on disk is a persistence matter, so it lives here; where a
key comes from (passphrase, keyring, key header) is :mod:`medstation.access.encryption`'s,
and the composition root hands the key down (``Database(path, key=...)``).
"""

from __future__ import annotations

from pathlib import Path

from medstation.errors import UserFacingError

PLAINTEXT_MAGIC = b"SQLite format 3\x00"


class EncryptionError(UserFacingError):
    """An encrypted store cannot be opened or converted; the message says what to do."""


class KeyRequired(EncryptionError):
    """The store is encrypted (or must be created encrypted) and no key source gave a key."""


class WrongKey(EncryptionError):
    """The passphrase or key does not unlock this store."""


def is_plaintext_sqlite(db_path: Path) -> bool:
    """True when ``db_path`` starts with SQLite's plaintext header (an encrypted file looks random)."""
    try:
        with Path(db_path).open("rb") as fh:
            return fh.read(len(PLAINTEXT_MAGIC)) == PLAINTEXT_MAGIC
    except OSError:
        return False


def connect(db_path: Path, key: bytes | None, *, check_same_thread: bool = True):
    """A DB-API connection to ``db_path``: sqlcipher3 with the raw key, or the stdlib sqlite3 for plaintext.

    The key is checked at once (a read of page 1) so a wrong one fails here, with
    :class:`WrongKey`, and never later in the middle of a job.
    """
    if key is None:
        import sqlite3

        return sqlite3.connect(str(db_path), check_same_thread=check_same_thread)
    dbapi = cipher_dbapi()
    con = dbapi.connect(str(db_path), check_same_thread=check_same_thread)
    con.execute("PRAGMA cipher_log_level = NONE")
    con.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi.DatabaseError:
        con.close()
        raise WrongKey(f"{db_path} does not open with this key (wrong key, or not an encrypted MedStation "
                       "database).") from None
    return con


def cipher_dbapi():
    """The sqlcipher3 DB-API module (``sqlcipher3-binary``), or a clear error when it is missing."""
    try:
        from sqlcipher3 import dbapi2  # lazy: only an encrypted store needs the native module
    except ImportError:
        raise EncryptionError("This data folder is encrypted, but the sqlcipher3 package is not installed "
                              "(pip install sqlcipher3-binary).") from None
    return dbapi2
