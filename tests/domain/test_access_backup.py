"""Backup and verified restore round-trip a populated store: every record and every file hash."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher

from medstation.access.backup import BackupError, backup_store, restore_store, verify_backup
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore
from medstation.segmentation.records import SegmentRecord, read_npz, save_decision
from medstation.store.audit_chain import verify_chain
from medstation.store.database import Database
from medstation.store.tables import ModelKind, ModelVersion


def _populate(settings) -> None:
    db = Database(settings.db_path)
    store = AccountStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    store.add_user("alice", Role.admin, "admin password")
    store.add_user("rita", Role.radiologist, "radiology pw", session=UserSession(Actor("alice", Role.admin)))
    mask = np.zeros((3, 8, 8), np.uint8)
    mask[1, 2:5, 2:6] = 1
    save_decision(db, settings.home, SegmentRecord("1.2.3", "liver", "#ff0000", mask, mask, "litemedsam", None),
                  "accepted", "rita", None)
    model = settings.models_dir / "tuned.onnx"
    model.write_bytes(b"\x01model weights" * 100)
    with db.session() as s:
        s.add(ModelVersion(kind=ModelKind.segmentation, name="tuned", path=str(model),
                           sha256=hashlib.sha256(model.read_bytes()).hexdigest()))
    (settings.kb_dir / "chroma").mkdir()
    (settings.kb_dir / "chroma" / "index.bin").write_bytes(bytes(range(256)) * 10)
    db.audit("kb.ingest", actor="system", docs=1)
    db.close()


def _records(db_file: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db_file)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in sorted(names)}
    finally:
        con.close()


def _file_hashes(home: Path) -> dict[str, str]:
    return {p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and p.parts[len(home.parts)] not in ("logs", "cache")
            and not p.name.startswith("medstation.db") and not p.parts[len(home.parts)].startswith("replaced-")}


def test_round_trip_keeps_every_record_and_file(settings, tmp_path):
    _populate(settings)
    before_records, before_files = _records(settings.db_path), _file_hashes(settings.home)
    assert len(before_files) == 4  # two masks, the model, the kb file
    manifest = backup_store(settings.home, tmp_path / "bk")
    assert manifest.table_rows["user_account"] == 2 and manifest.table_rows["segmentation"] == 1

    shutil.rmtree(settings.home)  # the disk is lost
    restore_store(tmp_path / "bk", settings.home)
    assert _records(settings.db_path) == before_records
    assert _file_hashes(settings.home) == before_files
    restore_store(tmp_path / "bk", settings.home, replace=True)  # over a live store: the old one moves aside
    assert _records(settings.db_path) == before_records
    assert _file_hashes(settings.home) == before_files
    assert len(list(settings.home.glob("replaced-*/medstation.db"))) == 1
    con = sqlite3.connect(settings.db_path)
    assert verify_chain(con).intact
    con.close()


def test_restore_into_another_folder_points_paths_there(settings, tmp_path):
    _populate(settings)
    backup_store(settings.home, tmp_path / "bk")
    new_home = tmp_path / "elsewhere"
    restore_store(tmp_path / "bk", new_home)
    con = sqlite3.connect(new_home / "medstation.db")
    mask_path, = con.execute("SELECT mask_path FROM segmentation").fetchone()
    model_path, = con.execute("SELECT path FROM model_version").fetchone()
    assert verify_chain(con).intact  # the trail is not rewritten
    con.close()
    assert mask_path.startswith(str(new_home.resolve())) and read_npz(mask_path)[1].sum() == 12
    assert Path(model_path).read_bytes().startswith(b"\x01model")


def test_restore_refuses_a_tampered_backup_and_changes_nothing(settings, tmp_path):
    _populate(settings)
    backup_store(settings.home, tmp_path / "bk")
    before = _records(settings.db_path)
    victim = next((tmp_path / "bk" / "files" / "segmentations").rglob("*_mask.npz"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    (tmp_path / "bk" / "files" / "extra.txt").write_text("smuggled")
    with pytest.raises(BackupError, match=r"_mask.npz: changed.*extra.txt: not in the manifest"):
        restore_store(tmp_path / "bk", settings.home, replace=True)
    assert _records(settings.db_path) == before


def test_restore_needs_replace_over_an_existing_store(settings, tmp_path):
    _populate(settings)
    backup_store(settings.home, tmp_path / "bk")
    with pytest.raises(BackupError, match="--replace"):
        restore_store(tmp_path / "bk", settings.home)
    assert verify_backup(tmp_path / "bk").db_sha256


def test_backup_cli_round_trip(settings, tmp_path, monkeypatch, capsys):
    from medstation.cli import main

    for name in ("MEDSTATION_USER", "MEDSTATION_PASSWORD", "MEDSTATION_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    _populate(settings)
    monkeypatch.setenv("MEDSTATION_USER", "rita")
    monkeypatch.setenv("MEDSTATION_PASSWORD", "radiology pw")
    assert main(["backup", str(tmp_path / "bk")]) == 2  # radiologists do not back up
    monkeypatch.setenv("MEDSTATION_USER", "alice")
    monkeypatch.setenv("MEDSTATION_PASSWORD", "admin password")
    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert main(["restore", str(tmp_path / "bk"), "--verify-only"]) == 0
    assert main(["restore", str(tmp_path / "bk"), "--replace"]) == 0
    assert "restored" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0


def test_backup_carries_the_audit_anchor_cut_to_the_snapshot(settings, tmp_path, monkeypatch):
    """The key and the checkpoints travel with the backup; lines for events written after the database
    snapshot (by another process, while the files are copied) are left out, so the restore verifies."""
    from medstation.access import backup as backup_module
    from medstation.store.audit_anchor import AuditAnchor

    _populate(settings)
    real_head = backup_module._audit_head

    def head_then_someone_writes(db_file, key):
        head = real_head(db_file, key)
        live = Database(settings.db_path)
        live.audit("imaging.view", actor="rita", entity="series", entity_id="1.2.3")  # after the snapshot
        live.close()
        return head

    monkeypatch.setattr(backup_module, "_audit_head", head_then_someone_writes)
    manifest = backup_store(settings.home, tmp_path / "bk")
    assert {"audit-anchor/medstation.db.key", "audit-anchor/medstation.db.checkpoints"} <= set(manifest.files)
    new_home = tmp_path / "elsewhere"
    restore_store(tmp_path / "bk", new_home)
    anchor = AuditAnchor(new_home / "medstation.db")
    assert anchor.key_path.stat().st_mode & 0o777 == 0o600
    con = sqlite3.connect(new_home / "medstation.db")
    try:
        report = verify_chain(con, anchor=anchor)
    finally:
        con.close()
    assert report.intact and report.anchored == report.checked, report.summary()
    live = sqlite3.connect(settings.db_path)
    try:
        assert not verify_chain(live, anchor=anchor).intact  # the restored anchor lacks the later event's line
        assert verify_chain(live, anchor=AuditAnchor(settings.db_path)).intact
    finally:
        live.close()
