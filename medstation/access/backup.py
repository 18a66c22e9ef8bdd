"""Online backup and verified restore of the whole store to a folder.

A backup folder holds:
- ``medstation.db``: a consistent copy made with SQLite's online backup API
  (other processes may keep reading and writing while it runs), switched to a
  single-file journal so it is one self-contained file;
- ``files/``: every file under the data folder (knowledge base, accepted masks,
  model files, exports, notes) except the live database, ``logs/`` and ``cache/``;
- ``manifest.json``: schema_version, the source data folder, and the sha256 and
  size of the database copy and of every file, plus each table's row count.

Restore first checks every hash against the manifest and refuses on any
mismatch or missing/extra file, then copies into the data folder (a store
already there is moved aside to ``replaced-<time>/`` only with ``replace=True``),
rewrites stored absolute paths when the data folder moved, and runs
``PRAGMA integrity_check`` on the result.

The audit anchor (``audit-anchor/``: the HMAC key and the signed checkpoint file, see
:mod:`medstation.store.audit_anchor`) travels in ``files/`` like any other file, so a
restored store verifies against its own anchor. The checkpoint file is cut to the
database snapshot's newest event: lines written by other processes after the snapshot
would otherwise name events the copy does not hold. A store restored over a live one
moves the live anchor aside with the rest of the live store; a backup made before the
anchor existed gets a new anchor that adopts its trail's head on first open.

An encrypted store (SQLCipher, :mod:`medstation.access.encryption`) is backed up
encrypted with the same key: the online backup runs between two keyed connections
and the key header ``medstation.key.json`` travels in ``files/``. Restoring it needs
the same passphrase (or keyring entry); the key is checked before anything is touched.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from medstation.access.encryption import database_key
from medstation.errors import UserFacingError
from medstation.fileio import atomic_write, file_sha256
from medstation.store.audit_anchor import ANCHOR_DIR, AuditAnchor
from medstation.store.sqlcipher import connect

MANIFEST = "manifest.json"
DB_NAME = "medstation.db"
SCHEMA_VERSION = 1
SKIPPED_TOP = {"logs", "cache"}
# audit events keep the paths they were written with: rewriting them would (rightly) break the chain
_NO_PATH_REWRITE = {"audit_event", "audit_chain_head", "alembic_version"}


class BackupError(UserFacingError):
    """The backup folder is unusable or does not match its manifest."""


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds; ``files`` maps a posix path relative to the data folder to (sha256, bytes)."""

    schema_version: int
    created_at: str
    source_home: str
    db_sha256: str
    db_bytes: int
    table_rows: dict[str, int]
    files: dict[str, tuple[str, int]]

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "files": {k: list(v) for k, v in self.files.items()}}, indent=1,
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "BackupManifest":
        data = json.loads(text)
        data["files"] = {k: (v[0], int(v[1])) for k, v in data["files"].items()}
        return cls(**data)


def table_rows(db_file: Path, key: bytes | None = None) -> dict[str, int]:
    con = connect(db_file, key)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {name: con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in sorted(names)}
    finally:
        con.close()


def _store_files(home: Path, exclude: Path | None) -> list[Path]:
    found = []
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home)
        if not path.is_file() or path.is_symlink() or rel.parts[0] in SKIPPED_TOP:
            continue
        if rel.parts[0].startswith(DB_NAME) or rel.parts[0].startswith("replaced-"):
            continue
        if exclude is not None and (path == exclude or exclude in path.parents):
            continue
        found.append(path)
    return found


def backup_store(home: Path, dest: Path) -> BackupManifest:
    """Copy the store under ``home`` into the new or empty folder ``dest``."""
    home, dest = Path(home).resolve(), Path(dest).resolve()
    db_file = home / DB_NAME
    if not db_file.is_file():
        raise BackupError(f"There is no store to back up at {home}.")
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; choose a new folder for the backup.")
    (dest / "files").mkdir(parents=True, exist_ok=True)
    copy = dest / DB_NAME
    key = database_key(db_file)  # None for a plaintext store
    src = connect(db_file, key)
    dst = connect(copy, key)
    try:
        src.backup(dst)  # the online backup API: a consistent snapshot while others keep working
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    checkpoints = AuditAnchor(db_file).checkpoint_path
    snapshot_head = _audit_head(copy, key)
    files: dict[str, tuple[str, int]] = {}
    for path in _store_files(home, exclude=dest):
        rel = path.relative_to(home).as_posix()
        target = dest / "files" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path == checkpoints:  # only the lines of events the snapshot holds
            atomic_write(target, AuditAnchor(db_file).lines_up_to(snapshot_head))
            os.chmod(target, 0o600)
        else:
            shutil.copy2(path, target)
        files[rel] = (file_sha256(target), target.stat().st_size)
    manifest = BackupManifest(SCHEMA_VERSION, datetime.now(timezone.utc).isoformat(), str(home), file_sha256(copy),
                              copy.stat().st_size, table_rows(copy, key), files)
    atomic_write(dest / MANIFEST, manifest.to_json())
    return manifest


def verify_backup(src: Path) -> BackupManifest:
    """The manifest, after checking every hash and that no file is missing or extra; raises :class:`BackupError`."""
    src = Path(src)
    try:
        manifest = BackupManifest.from_json((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src} has no readable {MANIFEST} ({exc}).") from None
    problems = []
    db_copy = src / DB_NAME
    if not db_copy.is_file() or file_sha256(db_copy) != manifest.db_sha256:
        problems.append(f"{DB_NAME}: missing or changed")
    present = {p.relative_to(src / "files").as_posix() for p in (src / "files").rglob("*") if p.is_file()}
    for rel, (digest, _size) in manifest.files.items():
        if rel not in present:
            problems.append(f"{rel}: missing")
        elif file_sha256(src / "files" / rel) != digest:
            problems.append(f"{rel}: changed")
    problems += [f"{rel}: not in the manifest" for rel in sorted(present - set(manifest.files))]
    if problems:
        raise BackupError(f"The backup at {src} does not match its manifest: " + "; ".join(problems[:10])
                          + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))
    return manifest


def restore_store(src: Path, home: Path, *, replace: bool = False) -> BackupManifest:
    """Verify ``src`` and restore it into ``home``. A store already there needs ``replace=True``."""
    manifest = verify_backup(src)
    src, home = Path(src).resolve(), Path(home).resolve()
    key = database_key(src / "files" / DB_NAME)  # from the backup's key header: refuses a wrong key up front
    if key is not None:
        connect(src / DB_NAME, key).close()
    home.mkdir(parents=True, exist_ok=True)
    live = home / DB_NAME
    if live.exists():
        if not replace:
            raise BackupError(f"{home} already holds a store; pass --replace to move it aside and restore.")
        aside = home / f"replaced-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
        aside.mkdir()
        for entry in list(home.iterdir()):
            if entry != aside and entry.name not in SKIPPED_TOP and not entry.name.startswith("replaced-"):
                shutil.move(str(entry), aside / entry.name)
    for rel, (digest, _size) in manifest.files.items():
        target = home / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "files" / rel, target)
        if file_sha256(target) != digest:
            raise BackupError(f"Copying {rel} into {home} did not reproduce its hash; the disk may be failing.")
    if (home / ANCHOR_DIR).is_dir():
        os.chmod(home / ANCHOR_DIR, 0o700)  # the key stays readable by this account only
    tmp = home / (DB_NAME + ".restoring")
    shutil.copy2(src / DB_NAME, tmp)
    if file_sha256(tmp) != manifest.db_sha256:
        tmp.unlink()
        raise BackupError("Copying the database did not reproduce its hash; the disk may be failing.")
    for suffix in ("-wal", "-shm"):
        (home / (DB_NAME + suffix)).unlink(missing_ok=True)
    os.replace(tmp, live)
    if Path(manifest.source_home) != home:
        rewrite_home_paths(live, manifest.source_home, str(home), key=key)
    con = connect(live, key)
    try:
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    if verdict != "ok":
        raise BackupError(f"The restored database fails SQLite's integrity check: {verdict}")
    return manifest


def rewrite_home_paths(db_file: Path, old_home: str, new_home: str, *, key: bytes | None = None) -> int:
    """Point stored absolute paths under ``old_home`` at ``new_home`` (text columns, outside the audit trail)."""
    old_prefix = old_home.rstrip("/") + "/"
    new_prefix = new_home.rstrip("/") + "/"
    changed = 0
    con = connect(db_file, key)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            if table in _NO_PATH_REWRITE:
                continue
            for _cid, column, ctype, *_ in con.execute(f'PRAGMA table_info("{table}")').fetchall():
                if "CHAR" not in ctype.upper() and "TEXT" not in ctype.upper():
                    continue
                cur = con.execute(
                    f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) WHERE substr("{column}", 1, ?) = ?',
                    (new_prefix, len(old_prefix) + 1, len(old_prefix), old_prefix))
                changed += cur.rowcount
        con.commit()
    finally:
        con.close()
    return changed


def _audit_head(db_file: Path, key: bytes | None) -> int:
    """The id of the newest audit event in ``db_file`` (0 for none or a store without the chain)."""
    con = connect(db_file, key)
    try:
        row = con.execute("SELECT last_event_id FROM audit_chain_head WHERE id = 1").fetchone()
    except Exception:  # noqa: BLE001 - a store from before the chain has no head table
        row = None
    finally:
        con.close()
    return int(row[0]) if row and row[0] else 0
