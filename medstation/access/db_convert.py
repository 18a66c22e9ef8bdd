"""Convert a plaintext store to an encrypted one in place (``medstation db encrypt``).

Order, chosen so that a crash at any step loses nothing:

1. the plaintext database is checkpointed and checked (``integrity_check``), and
   every table's row count taken;
2. SQLCipher's ``sqlcipher_export`` writes an encrypted copy ``medstation.db.encrypting``;
3. the copy is opened with the key and verified: not SQLite's plaintext magic,
   ``integrity_check`` = ok, ``cipher_integrity_check`` clean, the same tables with
   the same row counts and the same ``user_version``; the source is counted again
   (a change means someone wrote during the conversion: refused);
4. the key header is written as ``medstation.key.json.pending``; the original is
   hard-linked (or copied) to ``medstation.db.plaintext-<time>``; the verified copy
   atomically replaces ``medstation.db``; the pending header becomes the header
   (:func:`medstation.access.encryption.read_header` finishes this step after a crash);
5. the store is opened once more through :class:`Database` (migrations to head) and
   counted; only then is the plaintext original deleted (kept with ``keep_original``).

Deleting a file does not scrub its blocks: on a disk that held patient data in
plaintext, the README's advice (an encrypted volume) still applies.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from medstation.access import encryption
from medstation.access.encryption import EncryptionError, KdfCost
from medstation.store import sqlcipher
from medstation.store.database import Database


@dataclass(frozen=True)
class ConversionReport:
    """Outcome of :func:`encrypt_store`: row counts per table (equal before and after) and what was kept."""

    db_path: str
    table_rows: dict[str, int]
    key_source: str
    kept_original: str  # path of the plaintext original, or "" when it was deleted

    def summary(self) -> str:
        kept = (f"; the plaintext original is kept at {self.kept_original} — delete it once you have checked"
                if self.kept_original else "; the plaintext original was deleted")
        return (f"encrypted {self.db_path}: {sum(self.table_rows.values())} rows in {len(self.table_rows)} tables "
                f"verified (integrity_check ok, row counts equal), key from the {self.key_source}{kept}")


def row_counts(con) -> dict[str, int]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {name: con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in sorted(names)}


def encrypt_store(db_path: Path, *, passphrase: str | None = None, use_keyring: bool = False,
                  keep_original: bool = False, cost: KdfCost = KdfCost()) -> ConversionReport:
    """Encrypt the plaintext database at ``db_path`` in place (steps in the module docstring)."""
    db_path = Path(db_path).resolve()
    if encryption.read_header(db_path) is not None:
        raise EncryptionError(f"{db_path} is already encrypted (it has the key header "
                              f"{encryption.header_path(db_path).name}).")
    if not sqlcipher.is_plaintext_sqlite(db_path):
        raise EncryptionError(f"{db_path} is not a plaintext SQLite database; nothing converted.")
    dbapi = sqlcipher.cipher_dbapi()
    work = db_path.with_name(db_path.name + ".encrypting")
    work.unlink(missing_ok=True)

    src = dbapi.connect(str(db_path))
    try:
        src.execute("PRAGMA busy_timeout=2000")
        busy = src.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy and busy[0]:
            raise EncryptionError("The database is in use: close MedStation (and any medstation command) first.")
        verdict = src.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise EncryptionError(f"The plaintext database fails integrity_check ({verdict}); repair or restore "
                                  "it before encrypting.")
        before = row_counts(src)
        user_version = src.execute("PRAGMA user_version").fetchone()[0]
        # the header is written first (pending), so the key used below is exactly the one it wraps
        header, kek = encryption.create_key_header(db_path, passphrase=passphrase, use_keyring=use_keyring,
                                                   cost=cost, pending=True)
        key = encryption.unwrap_db_key(header, kek)
        src.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key.hex()}'\"", (str(work),))
        src.execute("SELECT sqlcipher_export('encrypted')")
        src.execute(f"PRAGMA encrypted.user_version = {int(user_version)}")
        src.execute("DETACH DATABASE encrypted")
        _verify_copy(work, key, before, user_version)
        if row_counts(src) != before:
            raise EncryptionError("The database changed while it was being encrypted: close MedStation and run "
                                  "the command again.")
    except BaseException:
        work.unlink(missing_ok=True)
        encryption._pending_path(db_path).unlink(missing_ok=True)
        raise
    finally:
        src.close()

    _fsync(work)
    aside = db_path.with_name(f"{db_path.name}.plaintext-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
    try:
        os.link(db_path, aside)
    except OSError:
        shutil.copy2(db_path, aside)
    os.replace(work, db_path)
    for suffix in ("-wal", "-shm"):  # the plaintext journal files belong to the old file
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    os.replace(encryption._pending_path(db_path), encryption.header_path(db_path))

    db = Database(db_path, key=key)  # migrations to head, through SQLAlchemy, on the encrypted file
    try:
        with db.engine.connect() as conn:
            after = row_counts(conn.connection.driver_connection)
    finally:
        db.close()
    if {t: n for t, n in after.items() if t in before} != before:
        raise EncryptionError(f"After the swap the encrypted store's row counts differ from the original's; the "
                              f"plaintext original is kept at {aside}.")
    if not keep_original:
        aside.unlink()
    return ConversionReport(str(db_path), before, header.key_source, str(aside) if keep_original else "")


def _verify_copy(path: Path, key: bytes, before: dict[str, int], user_version: int) -> None:
    if sqlcipher.is_plaintext_sqlite(path):
        raise EncryptionError("sqlcipher_export wrote a plaintext file; nothing converted.")
    con = sqlcipher.connect(path, key)
    try:
        problems = []
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"integrity_check: {verdict}")
        bad_pages = con.execute("PRAGMA cipher_integrity_check").fetchall()
        if bad_pages:
            problems.append(f"cipher_integrity_check: {bad_pages[0][0]}")
        after = row_counts(con)
        if after != before:
            problems.append("row counts differ: " + ", ".join(
                f"{t} {before.get(t)}→{after.get(t)}" for t in sorted(set(before) | set(after))
                if before.get(t) != after.get(t)))
        if con.execute("PRAGMA user_version").fetchone()[0] != user_version:
            problems.append("user_version differs")
    finally:
        con.close()
    if problems:
        raise EncryptionError("The encrypted copy did not verify (" + "; ".join(problems) + "); the plaintext "
                              "store is unchanged.")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
