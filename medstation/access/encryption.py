"""At-rest encryption of the database with SQLCipher (optional, off by default).

Keys, from the person to the pages on disk:

- **KEK** (key-encryption key, 32 bytes): argon2id of the admin's passphrase with a
  random salt, or 32 random bytes kept in the OS keyring (``keyring``).
- **Database key** (32 random bytes): what SQLCipher encrypts pages with, passed as
  a *raw* key (``PRAGMA key = "x'…'"``) so opening a pooled connection costs no
  KDF. It is stored only wrapped by the KEK (AES-256-GCM) in the key header.
- **Key header** ``<db stem>.key.json`` beside the database (``medstation.key.json``):
  schema version, KDF name and cost, salt, the wrapped database key, and where the
  KEK comes from. It holds no secret; without the passphrase (or keyring entry) it
  is useless, and without it the database is unreadable, so backups carry it.

Where a process gets the KEK when it opens an encrypted store, first hit wins:
the ``kek=`` argument; ``MEDSTATION_DB_KEY`` (hex KEK: the window sets it after
asking once, so its child workers inherit it); ``MEDSTATION_DB_PASSPHRASE``; the OS
keyring. None of them: :class:`KeyRequired`, a :class:`UserFacingError` that says
which variable to set. A wrong passphrase fails the GCM tag check: :class:`WrongKey`.

Not encrypted (README "Data at rest"): masks, exports, knowledge base and model
files in the data folder are ordinary files; only the database is encrypted.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from medstation.fileio import atomic_write
from medstation.store.database import Database
from medstation.store.sqlcipher import EncryptionError, KeyRequired, WrongKey, is_plaintext_sqlite

ENV_KEY = "MEDSTATION_DB_KEY"
ENV_PASSPHRASE = "MEDSTATION_DB_PASSPHRASE"
KEYRING_SERVICE = "MedStation database"
HEADER_SCHEMA_VERSION = 1
MIN_PASSPHRASE = 10
_AAD = b"medstation-db-key-v1"


@dataclass(frozen=True)
class KdfCost:
    """argon2id cost: ``time_cost`` passes over ``memory_kib`` KiB with ``parallelism`` lanes."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2


@dataclass(frozen=True)
class KeyHeader:
    """What sits in ``<db>.key.json``. ``salt`` and ``wrapped_key`` are base64 (nonce ‖ ciphertext ‖ tag)."""

    schema_version: int
    store_id: str  # the keyring entry's user name
    key_source: str  # "passphrase" or "keyring": where the KEK comes from
    kdf: str  # "argon2id" (passphrase) or "none" (keyring)
    salt: str
    time_cost: int
    memory_kib: int
    parallelism: int
    wrapped_key: str
    created_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "KeyHeader":
        return cls(**json.loads(text))


def header_path(db_path: Path) -> Path:
    """``medstation.db`` → ``medstation.key.json`` (a name the backup copies with the other files)."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.stem + ".key.json")


def _pending_path(db_path: Path) -> Path:
    return header_path(db_path).with_name(header_path(db_path).name + ".pending")


def read_header(db_path: Path) -> KeyHeader | None:
    """The key header beside ``db_path``, or None for a plaintext store.

    Finishes an interrupted ``db encrypt``: its last two steps are "encrypted file
    replaces the plaintext one" then "pending header becomes the header"; a crash
    between them leaves an encrypted file and a pending header, which is promoted here
    (or dropped when the file is still plaintext, i.e. the swap never happened).
    """
    path, pending = header_path(db_path), _pending_path(db_path)
    if not path.exists() and pending.exists():
        if Path(db_path).exists() and not is_plaintext_sqlite(db_path):
            os.replace(pending, path)
        else:
            pending.unlink()
    if not path.exists():
        return None
    try:
        return KeyHeader.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        raise EncryptionError(f"The key header {path} is unreadable ({exc}); restore it from a backup.") from None


def derive_kek(passphrase: str, header: KeyHeader) -> bytes:
    """argon2id(passphrase, salt) → 32 bytes, with the cost the header was written with."""
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(passphrase.encode("utf-8"), base64.b64decode(header.salt), time_cost=header.time_cost,
                           memory_cost=header.memory_kib, parallelism=header.parallelism, hash_len=32,
                           type=Type.ID)


def unwrap_db_key(header: KeyHeader, kek: bytes) -> bytes:
    """The database key, or :class:`WrongKey` when ``kek`` fails the AES-GCM tag."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    blob = base64.b64decode(header.wrapped_key)
    try:
        return AESGCM(kek).decrypt(blob[:12], blob[12:], _AAD)
    except (InvalidTag, ValueError):
        raise WrongKey("The database passphrase (or key) is wrong: this data folder's key header does not "
                       "open with it.") from None


def _wrap(kek: bytes, db_key: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return base64.b64encode(nonce + AESGCM(kek).encrypt(nonce, db_key, _AAD)).decode("ascii")


# --- keyring --------------------------------------------------------------------------------------

def keyring_unavailable_reason() -> str:
    """Empty when an OS keyring backend is usable, else why not (headless Linux usually has none)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return "the keyring package is not installed"
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) < 1:
        return f"no OS keyring backend is available ({type(backend).__module__}.{type(backend).__name__})"
    return ""


def _keyring_get(store_id: str) -> bytes | None:
    if keyring_unavailable_reason():
        return None
    import keyring

    try:
        value = keyring.get_password(KEYRING_SERVICE, store_id)
    except Exception:  # a locked or broken keyring daemon: fall back to the other sources
        return None
    return bytes.fromhex(value) if value else None


# --- creating and opening -------------------------------------------------------------------------

def create_key_header(db_path: Path, *, passphrase: str | None = None, use_keyring: bool = False,
                      cost: KdfCost = KdfCost(), pending: bool = False) -> tuple[KeyHeader, bytes]:
    """Write a new key header for ``db_path``; returns it and the KEK.

    ``use_keyring``: a random KEK stored in the OS keyring (no passphrase); raises
    :class:`KeyRequired` naming the reason when there is no keyring. Otherwise
    ``passphrase`` (at least :data:`MIN_PASSPHRASE` characters) is stretched with argon2id.
    ``pending=True`` writes ``….key.json.pending`` (see :func:`read_header`).
    """
    store_id = uuid.uuid4().hex
    if use_keyring:
        reason = keyring_unavailable_reason()
        if reason:
            raise KeyRequired(f"The database key cannot be kept in the OS keyring: {reason}. Use a passphrase "
                              f"instead (set {ENV_PASSPHRASE}, or choose a passphrase in the window).")
        import keyring

        kek = secrets.token_bytes(32)
        keyring.set_password(KEYRING_SERVICE, store_id, kek.hex())
        salt, source, kdf = b"", "keyring", "none"
    else:
        if not passphrase or len(passphrase) < MIN_PASSPHRASE:
            raise KeyRequired(f"An encrypted store needs a passphrase of at least {MIN_PASSPHRASE} characters "
                              f"(set {ENV_PASSPHRASE} or enter it in the window).")
        salt, source, kdf = secrets.token_bytes(16), "passphrase", "argon2id"
        kek = b""
    header = KeyHeader(HEADER_SCHEMA_VERSION, store_id, source, kdf, base64.b64encode(salt).decode("ascii"),
                       cost.time_cost, cost.memory_kib, cost.parallelism, "",
                       datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if not use_keyring:
        kek = derive_kek(passphrase, header)
    header = KeyHeader(**{**asdict(header), "wrapped_key": _wrap(kek, secrets.token_bytes(32))})
    target = _pending_path(db_path) if pending else header_path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, header.to_json())
    return header, kek


def kek_for(header: KeyHeader, *, kek: bytes | None = None, passphrase: str | None = None,
            env: Mapping[str, str] | None = None) -> bytes:
    """The KEK from the first source that has one (see the module docstring), else :class:`KeyRequired`."""
    env = os.environ if env is None else env
    if kek is not None:
        return kek
    if env.get(ENV_KEY, "").strip():
        try:
            return bytes.fromhex(env[ENV_KEY].strip())
        except ValueError:
            raise WrongKey(f"{ENV_KEY} is not a hex key.") from None
    passphrase = passphrase if passphrase is not None else env.get(ENV_PASSPHRASE) or None
    if passphrase:
        return derive_kek(passphrase, header)
    if header.key_source == "keyring":
        found = _keyring_get(header.store_id)
        if found is not None:
            return found
        reason = keyring_unavailable_reason() or "the keyring has no entry for this data folder"
        raise KeyRequired(f"This data folder is encrypted with a key kept in the OS keyring, but {reason}. "
                          f"Set {ENV_KEY} to the key in hex, or restore the keyring entry.")
    raise KeyRequired(f"This data folder's database is encrypted: set {ENV_PASSPHRASE} to its passphrase "
                      "(the window asks for it).")


def database_key(db_path: Path, *, kek: bytes | None = None, passphrase: str | None = None,
                 env: Mapping[str, str] | None = None) -> bytes | None:
    """The SQLCipher key for ``db_path``, or None when the store is plaintext (no key header)."""
    header = read_header(db_path)
    if header is None:
        return None
    return unwrap_db_key(header, kek_for(header, kek=kek, passphrase=passphrase, env=env))


def new_store_key(db_path: Path, mode: str, *, env: Mapping[str, str] | None = None) -> bytes | None:
    """Key for a database file that does not exist yet. ``mode``: "off", "passphrase" or "keyring".

    "keyring" falls back to the passphrase in ``MEDSTATION_DB_PASSPHRASE`` when the
    machine has no keyring (headless Linux), and says so in the error if that is unset.
    """
    env = os.environ if env is None else env
    if read_header(db_path) is not None:  # a header already written for this new store (the window's dialog)
        return database_key(db_path, env=env)
    if mode in ("", "off", False, None):
        return None
    passphrase = env.get(ENV_PASSPHRASE) or None
    if mode == "keyring" and not keyring_unavailable_reason():
        header, kek = create_key_header(db_path, use_keyring=True)
    elif mode == "keyring" and not passphrase:
        raise KeyRequired(f"MEDSTATION_DB_ENCRYPTION=keyring, but {keyring_unavailable_reason()}: headless Linux "
                          f"usually has none. Set {ENV_PASSPHRASE} to encrypt with a passphrase instead.")
    else:
        header, kek = create_key_header(db_path, passphrase=passphrase)
    return unwrap_db_key(header, kek)




def open_database(db_path: Path, *, migrate: bool = True, encrypt_new: str = "off", kek: bytes | None = None,
                  passphrase: str | None = None) -> Database:
    """The composition root's door to the store: find ``db_path``'s key here, hand it to :class:`Database`.

    An existing file gets the key its header names (None for a plaintext store); a new one
    is created as ``encrypt_new`` says ("off", "passphrase" or "keyring").
    """
    db_path = Path(db_path)
    if db_path.exists():
        key = database_key(db_path, kek=kek, passphrase=passphrase)
    else:
        key = new_store_key(db_path, encrypt_new)
        if key is None and migrate:
            _start_plaintext_store(db_path)
    return Database(db_path, migrate=migrate, key=key)


def _start_plaintext_store(db_path: Path) -> None:
    """A new plaintext store starts from the bundle's migrated empty schema when it ships one at the head
    (:mod:`medstation.store.head_template`: no Alembic on a first launch); otherwise the migrations create it."""
    from medstation.config import resources_dir
    from medstation.store.database import head_from_files
    from medstation.store.head_template import TEMPLATE_NAME, start_from_template

    start_from_template(db_path, resources_dir() / "store" / TEMPLATE_NAME, head_from_files())


def open_store(settings, *, migrate: bool = True, encrypt_new: str = "off", kek: bytes | None = None,
               passphrase: str | None = None) -> Database:
    """The store ``settings`` name: the clinic server (``database_url``; the audit anchor under
    ``shared_data_root``) or the data folder's SQLite file, opened with its key (:func:`open_database`).
    A server that cannot be reached raises; there is never a fallback to a local file."""
    if settings.database_url:
        return Database(settings.database_url, migrate=migrate, anchor_root=settings.shared_data_root or settings.home)
    return open_database(settings.db_path, migrate=migrate, encrypt_new=encrypt_new, kek=kek, passphrase=passphrase)
