"""``medstation db copy --to URL``: move a workstation's store into the clinic (PostgreSQL + shared root).

The source is the data folder's SQLite store (plaintext or SQLCipher: opened through
:class:`~medstation.store.database.Database`, which finds the key) and its files; the target
is an EMPTY PostgreSQL database (migrated here to Alembic's head) and the clinic's shared
data root. Steps, each verified before the next:

1. refuse a target that holds any row (or tables that are not MedStation's);
2. copy every table in foreign-key order with the ids kept, then move each id sequence past
   the largest id; stored absolute paths under the data folder are re-pointed at the shared
   root (not in the audit trail: its events keep the paths they were written with);
3. copy the data folder's files (not logs/, cache/, the database itself, its key header) and
   hash each copy: every sha256 must equal the original's;
   then store every segmentation's two mask files content-addressed in the shared root
   (``objects/ab/<sha256>.npz``), checked against the sha256 its row recorded (rows from before
   migration 0010 get theirs now), and point the rows at them;
4. copy the audit anchor (key and checkpoint lines) beside the shared root, then verify the
   audit chain on the target, anchor included;
5. compare the row count of every table.

Nothing is deleted from the workstation: after a successful copy it is switched over by
setting ``database_url`` and ``shared_data_root`` (docs/CLINIC.md).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Enum, String, Text, func, inspect, select, text, update
from sqlmodel import SQLModel

from medstation.access.backup import SKIPPED_TOP
from medstation.access.encryption import open_database
from medstation.fileio import file_sha256
from medstation.errors import UserFacingError
from medstation.store.audit_anchor import AuditAnchor
from medstation.store.audit_chain import ChainReport, verify_chain
from medstation.store.database import Database
from medstation.store.engine import is_server_url, safe_url
from medstation.store.objects import OBJECTS, FileIntegrityError, put_object, read_verified
from medstation.store.tables import Segmentation

_KEEP_PATHS = {"audit_event", "audit_chain_head", "alembic_version"}  # hashed history: never rewritten
_NOT_COPIED_PREFIXES = ("medstation.db", "medstation.key", "replaced-", "audit-anchor")
BATCH = 500


class CopyRefused(UserFacingError):
    """The target is not an empty clinic database, or the copy did not verify."""


@dataclass
class CopyReport:
    """What was copied and how it was checked; :meth:`summary` is what the command prints."""

    source: str
    target: str
    shared_root: Path
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (source, target)
    files: int = 0
    file_bytes: int = 0
    files_verified: int = 0
    paths_repointed: int = 0
    masks_by_hash: int = 0
    chain: ChainReport | None = None

    @property
    def ok(self) -> bool:
        return (all(a == b for a, b in self.rows.values()) and self.files_verified == self.files
                and self.chain is not None and self.chain.intact)

    def summary(self) -> str:
        lines = [f"copied {self.source} -> {self.target}", f"shared root: {self.shared_root}", "rows per table "
                 "(source -> target):"]
        for table, (a, b) in sorted(self.rows.items()):
            lines.append(f"  {table:<32} {a:>7} -> {b:<7} {'ok' if a == b else 'MISMATCH'}")
        lines.append(f"files: {self.files_verified}/{self.files} copies match their sha256 ({self.file_bytes} bytes)")
        lines.append(f"stored paths re-pointed at the shared root: {self.paths_repointed}")
        lines.append(f"mask files stored by sha256 under {OBJECTS}/ (each verified): {self.masks_by_hash}")
        lines.append(self.chain.summary() if self.chain else "audit chain: not checked")
        lines.append("verified: OK" if self.ok else "verified: FAILED")
        return "\n".join(lines)


def _tables():
    return [t for t in SQLModel.metadata.sorted_tables]


def _refuse_non_empty(target: Database) -> None:
    names = set(inspect(target.engine).get_table_names())
    foreign = names - set(SQLModel.metadata.tables) - {"alembic_version"}
    if foreign:
        raise CopyRefused(f"The target database holds tables that are not MedStation's ({', '.join(sorted(foreign))}); "
                          "db copy only fills an empty database.")
    with target.engine.connect() as conn:
        for table in _tables():
            if table.name in names and conn.execute(select(func.count()).select_from(table)).scalar():
                raise CopyRefused(f"The target database is not empty (table {table.name} has rows); db copy never "
                                  "merges into or overwrites a clinic database.")


def _copy_rows(source: Database, target: Database, report: CopyReport) -> None:
    with source.engine.connect() as src, target.engine.begin() as dst:
        for table in _tables():
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            for start in range(0, len(rows), BATCH):
                dst.execute(table.insert(), rows[start:start + BATCH])
            if "id" in table.c and rows:
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"(SELECT MAX(id) FROM \"{table.name}\"))"))


def _repoint_paths(target: Database, old_home: Path, new_root: Path) -> int:
    """Stored absolute paths under the data folder now point into the shared root (text columns only)."""
    old_prefix, new_prefix = str(old_home).rstrip("/") + "/", str(new_root).rstrip("/") + "/"
    changed = 0
    with target.engine.begin() as conn:
        for table in _tables():
            if table.name in _KEEP_PATHS:
                continue
            for column in table.c:
                kind = getattr(column.type, "impl", column.type)  # sqlmodel's AutoString decorates String
                if not isinstance(kind, (String, Text)) or isinstance(column.type, Enum):
                    continue
                stmt = (update(table).where(column.startswith(old_prefix, autoescape=True))
                        .values({column.name: new_prefix + func.substr(column, len(old_prefix) + 1)}))
                changed += conn.execute(stmt).rowcount
    return changed


def _data_files(home: Path) -> list[Path]:
    found = []
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home)
        if not path.is_file() or path.is_symlink() or rel.parts[0] in SKIPPED_TOP:
            continue
        if rel.parts[0].startswith(_NOT_COPIED_PREFIXES):
            continue
        found.append(path)
    return found


def _copy_files(home: Path, root: Path, report: CopyReport) -> None:
    for path in _data_files(home):
        dest = root / path.relative_to(home)
        if dest.exists() and file_sha256(dest) != file_sha256(path):
            raise CopyRefused(f"{dest} already exists in the shared root with other contents; nothing is overwritten.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        report.files += 1
        report.file_bytes += path.stat().st_size
        report.files_verified += file_sha256(dest) == file_sha256(path)


def _masks_by_hash(target: Database, root: Path, report: CopyReport) -> None:
    """Each segmentation's mask files go into the shared root content-addressed; the row records path and sha256.

    A mask file that is missing or differs from the sha256 its row recorded refuses the copy (naming the row)."""
    table = Segmentation.__table__
    with target.engine.begin() as conn:
        rows = conn.execute(select(table.c.id, table.c.mask_path, table.c.mask_sha256, table.c.ai_mask_path,
                                   table.c.ai_mask_sha256)).all()
        for seg_id, *refs in rows:
            values = {}
            columns = (("mask_path", "mask_sha256"), ("ai_mask_path", "ai_mask_sha256"))
            for (path_col, sha_col), path, sha in zip(columns, refs[0::2], refs[1::2]):
                if not path:  # a human-made mask has no model output file
                    continue
                try:
                    data = read_verified(path, sha, what=f"mask file of segmentation #{seg_id}")
                except FileIntegrityError as exc:
                    raise CopyRefused(f"{exc} The copy stops here; the target is not switched to.") from None
                stored = put_object(root, data, Path(path).suffix)
                values.update({path_col: str(stored.path), sha_col: stored.sha256})
                report.masks_by_hash += 1
            if values:
                conn.execute(update(table).where(table.c.id == seg_id).values(values))


def _copy_anchor(source: Database, target: Database) -> None:
    """The source anchor's key and lines become the target's (their names follow the target database)."""
    dst: AuditAnchor = target.anchor
    dst.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for src_path, dst_path in ((source.anchor.key_path, dst.key_path),
                               (source.anchor.checkpoint_path, dst.checkpoint_path)):
        if src_path.exists():
            shutil.copy2(src_path, dst_path)
            dst_path.chmod(0o600)


def _count(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar()) for t in _tables()}


def copy_store(home: Path, source_location: Path, url: str, shared_root: Path) -> CopyReport:
    """Copy the store at ``source_location`` (files under ``home``) into the empty database at ``url``."""
    if not is_server_url(url):
        raise CopyRefused("db copy --to needs a postgresql+psycopg://USER:PASS@HOST:PORT/DB URL.")
    if not Path(source_location).exists():
        raise CopyRefused(f"There is no store at {source_location} to copy.")
    shared_root = Path(shared_root)
    source = open_database(source_location)  # an SQLCipher store opens with the key its header names
    target = None
    try:
        target = Database(url, anchor_root=shared_root, migrate=False)
        _refuse_non_empty(target)
        if target.anchor.checkpoint_path.exists() and target.anchor.checkpoint_path.stat().st_size:
            raise CopyRefused(f"{target.anchor.checkpoint_path} already holds audit checkpoints of another store.")
        from medstation.store.database import upgrade_to_head

        upgrade_to_head(target.engine)
        report = CopyReport(str(source_location), safe_url(url), shared_root)
        before = _count(source)
        _copy_rows(source, target, report)
        report.paths_repointed = _repoint_paths(target, home, shared_root)
        _copy_files(home, shared_root, report)
        _masks_by_hash(target, shared_root, report)
        for path in (target.anchor.key_path, target.anchor.checkpoint_path):
            path.unlink(missing_ok=True)  # the empty anchor the target's open created; the source's replaces it
        _copy_anchor(source, target)
        after = _count(target)
        report.rows = {name: (before[name], after[name]) for name in before}
        raw = target.engine.raw_connection()
        try:
            report.chain = verify_chain(raw.driver_connection, anchor=target.anchor)
        finally:
            raw.close()
        return report
    finally:
        source.close()
        if target is not None:
            target.close()
