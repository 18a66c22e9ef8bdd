"""``medstation db copy --to URL``: a populated workstation store (plain and SQLCipher) into an empty PostgreSQL
database and shared root, verified; a non-empty target is refused."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.db_copy import CopyRefused, copy_store
from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore
from medstation.segmentation.records import SegmentRecord, save_decision
from medstation.access.encryption import open_database
from medstation.store.database import Database
from medstation.store.tables import ModelKind, ModelVersion


def _populate(settings, db) -> None:
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
    for i in range(5):
        db.audit("kb.ingest", actor="system", docs=i)


def test_copy_verifies_rows_files_and_chain(settings, pg_url, tmp_path):
    db = Database(settings.db_path)
    _populate(settings, db)
    db.close()
    shared = tmp_path / "shared"
    report = copy_store(settings.home, settings.db_path, pg_url, shared)
    assert report.ok, report.summary()
    assert report.rows["audit_event"][0] >= 7 and report.rows["user_account"] == (2, 2)
    assert report.files >= 2 and report.files_verified == report.files
    assert report.chain.intact and report.chain.anchored == report.rows["audit_event"][1]
    text = report.summary()
    assert "verified: OK" in text and "MISMATCH" not in text and "password" not in text

    clinic = Database(pg_url, anchor_root=shared)
    try:
        with clinic.session() as s:
            model = s.exec(select(ModelVersion)).one()
        assert model.path.startswith(str(shared))  # re-pointed at the shared root, and the file is there
        assert hashlib.sha256(open(model.path, "rb").read()).hexdigest() == model.sha256
        new_id = clinic.audit("clinic.first", actor="alice")  # the id sequence continues after the copied ids
        assert new_id == report.rows["audit_event"][1] + 1
    finally:
        clinic.close()

    with pytest.raises(CopyRefused, match="not empty"):
        copy_store(settings.home, settings.db_path, pg_url, tmp_path / "other")


def test_copy_of_an_encrypted_store(settings, pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSTATION_DB_PASSPHRASE", "copy me safely")
    db = open_database(settings.db_path, encrypt_new="passphrase")
    assert db.encrypted
    _populate(settings, db)
    db.close()
    report = copy_store(settings.home, settings.db_path, pg_url, tmp_path / "shared")
    assert report.ok, report.summary()
    assert report.rows["user_account"] == (2, 2)


def test_refuses_a_target_with_foreign_tables(settings, pg_url, tmp_path):
    from sqlalchemy import create_engine, text

    db = Database(settings.db_path)
    db.audit("x", actor="a")
    db.close()
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE billing (id int)"))
    engine.dispose()
    with pytest.raises(CopyRefused, match="not MedStation's"):
        copy_store(settings.home, settings.db_path, pg_url, tmp_path / "shared")


def test_copy_stores_masks_by_hash_and_refuses_a_changed_one(settings, pg_url, tmp_path):
    """Each mask file goes into the shared root content-addressed, checked against its row's sha256; the
    clinic's rows point at those objects, and a reading workstation verifies them."""
    from medstation.segmentation.records import load_stored_segments
    from medstation.store.objects import object_relpath
    from medstation.store.tables import Segmentation

    db = Database(settings.db_path)
    _populate(settings, db)
    with db.session() as s:  # a row from before migration 0010 records no hash: the copy computes it
        row = s.exec(select(Segmentation)).one()
        row.ai_mask_sha256 = ""
        s.add(row)
    db.close()
    shared = tmp_path / "shared"
    report = copy_store(settings.home, settings.db_path, pg_url, shared)
    assert report.ok and report.masks_by_hash == 2, report.summary()
    assert "mask files stored by sha256" in report.summary()
    clinic = Database(pg_url, anchor_root=shared)
    try:
        with clinic.session() as s:
            row = s.exec(select(Segmentation)).one()
        for path, sha in ((row.mask_path, row.mask_sha256), (row.ai_mask_path, row.ai_mask_sha256)):
            assert path == str(shared / object_relpath(sha, ".npz"))
            assert hashlib.sha256(open(path, "rb").read()).hexdigest() == sha
        assert load_stored_segments(clinic, "1.2.3")[0].mask.sum() == 12
    finally:
        clinic.close()


def test_copy_refuses_a_mask_that_differs_from_its_row(settings, pg_url, tmp_path):
    from pathlib import Path

    from medstation.store.tables import Segmentation

    db = Database(settings.db_path)
    _populate(settings, db)
    with db.session() as s:
        path = Path(s.exec(select(Segmentation)).one().mask_path)
    db.close()
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(CopyRefused, match="does not match the sha256"):
        copy_store(settings.home, settings.db_path, pg_url, tmp_path / "shared")
