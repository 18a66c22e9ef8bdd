"""Clinic mode's shared files (issue 25, item 3): masks, note exports and model files referenced by sha256.

Two "workstations" are two Settings with their own data folders (``home``) on the same store (one SQLite
file, or one PostgreSQL database) and the same ``shared_data_root``: each reads what the other wrote,
every read is verified, and a changed or missing file is an error (never an empty mask, never loaded).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from medstation.access.roles import Actor, Role, UserSession
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from medstation.notes.service import NotesService
from medstation.segmentation.records import (MaskFileChanged, MaskFileMissing, SegmentRecord, load_stored_segments,
                                             read_npz, save_decision)
from medstation.store.model_registry import ModelRegistry
from medstation.store.objects import FileIntegrityError, object_relpath
from medstation.store.tables import ModelKind, Segmentation

pytestmark = pytest.mark.both_engines

TRANSCRIPT = b"""Therapist: How was the week?
Client: Work was busy but I slept better after we changed the evening routine.
Therapist: We will keep the routine and review it next session.
"""


@pytest.fixture
def two_workstations(tmp_path):
    """(settings A, settings B): separate data folders, one shared root."""
    shared = tmp_path / "shared"
    pair = tuple(Settings(home=tmp_path / name, shared_data_root=shared) for name in ("ws-a", "ws-b"))
    for s in pair:
        s.ensure_dirs()
    return pair


def _mask(seed: int) -> np.ndarray:
    mask = np.zeros((4, 16, 16), np.uint8)
    mask[1 + seed % 2, 3:9, 2 + seed:10] = 1
    return mask


def _accept(db, settings, mask, name="liver") -> int:
    record = SegmentRecord("1.2.840.99", name, "#ff0000", mask, mask, "litemedsam", None)
    return save_decision(db, settings.home, record, "accepted", "dr.a", None, shared_root=settings.shared_data_root)


def _row(db, seg_id) -> Segmentation:
    with db.session() as s:
        row = s.get(Segmentation, seg_id)
        s.expunge(row)
        return row


def test_masks_written_on_one_workstation_are_read_on_the_other(db, two_workstations):
    a, b = two_workstations
    first, second = _mask(1), _mask(2)
    ids = [_accept(db, a, first), _accept(db, b, second, "spleen")]
    for seg_id, mask in zip(ids, (first, second)):
        row = _row(db, seg_id)
        sha = hashlib.sha256(Path(row.mask_path).read_bytes()).hexdigest()
        assert row.mask_sha256 == sha and row.ai_mask_sha256 == sha  # same bytes, one object
        assert Path(row.mask_path) == a.shared_data_root / object_relpath(sha, ".npz")
        assert not any(a.home.rglob("*.npz")) and not any(b.home.rglob("*.npz"))  # nothing in the data folders
    stored = load_stored_segments(db, "1.2.840.99")  # either workstation: the same rows, the same files
    assert [s.name for s in stored] == ["liver", "spleen"]
    assert np.array_equal(stored[0].mask, first) and np.array_equal(stored[1].mask, second)


def test_a_changed_mask_is_refused_and_a_missing_one_is_an_error(db, two_workstations):
    a, _ = two_workstations
    row = _row(db, _accept(db, a, _mask(1)))
    path = Path(row.mask_path)
    tampered = np.load(path)["mask"].copy()
    tampered[0, 0, 0] = 1
    np.savez_compressed(path, mask=tampered)  # a valid .npz with other pixels
    with pytest.raises(MaskFileChanged, match="does not match the sha256"):
        read_npz(row.mask_path, row.mask_sha256)
    assert load_stored_segments(db, "1.2.840.99") == []  # skipped (logged), never shown as recorded
    path.unlink()
    with pytest.raises(MaskFileMissing):
        read_npz(row.mask_path, row.mask_sha256)


def test_one_workstation_alone_keeps_masks_in_its_data_folder_verified(db, settings):
    seg_id = save_decision(db, settings.home, SegmentRecord("1.2.3", "x", "#fff", _mask(0), _mask(0), "e", None),
                           "accepted", "dr", None)
    row = _row(db, seg_id)
    assert row.mask_path.startswith(str(settings.home / "segmentations")) and len(row.mask_sha256) == 64
    Path(row.mask_path).write_bytes(Path(row.mask_path).read_bytes() + b"\0")
    with pytest.raises(MaskFileChanged):
        read_npz(row.mask_path, row.mask_sha256)


def _exported_note(settings, db):
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    client = notes.create_client("C-010")
    sess = notes.create_session(client.id, "2026-12-01")
    notes.import_transcript(sess.id, TRANSCRIPT, "s.txt")
    note = notes.draft(JobContext(), sess.id, "soap", DraftOptions(use_model=False))
    return notes, note.id, notes.export_note(note.id, "pdf", settings.exports_dir)


def test_note_export_is_kept_by_hash_and_read_back_on_another_workstation(db, two_workstations):
    a, b = two_workstations
    _, note_id, exported = _exported_note(a, db)
    data = exported.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    kept = a.shared_data_root / object_relpath(sha, ".pdf")
    assert data[:5] == b"%PDF-" and kept.read_bytes() == data
    reader = NotesService(b, db, UserSession(Actor("dr.kim", Role.therapist)))
    assert reader.read_export(note_id) == data  # workstation B: from the shared root, verified
    kept.write_bytes(data.replace(b"%PDF-", b"%PDF!", 1))
    with pytest.raises(FileIntegrityError, match="does not match the sha256"):
        reader.read_export(note_id)
    kept.unlink()
    with pytest.raises(FileIntegrityError, match="missing"):
        reader.read_export(note_id)


def test_note_export_alone_is_verified_from_the_exported_file(db, settings):
    notes, note_id, exported = _exported_note(settings, db)
    assert notes.read_export(note_id) == exported.read_bytes()
    exported.write_bytes(exported.read_bytes() + b"% edited")
    with pytest.raises(FileIntegrityError):
        notes.read_export(note_id)


# --- model files -----------------------------------------------------------------------------------------


def _shared_model(db, a, tmp_path) -> tuple:
    """A model version registered from workstation A's disk and uploaded to the shared root as the training
    agent does (``models/<kind>-<sha16><suffix>``); the registry path is A's local file. Both workstations
    share this machine's disk, so the tests remove A's file where they look through B's eyes."""
    local = a.models_dir / "finetuned" / "tuned.onnx"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"\x08weights" * 4096)
    version = ModelRegistry(db).register(ModelKind.segmentation, "tuned", local, meta={"engine": "litemedsam"})
    upload = a.shared_data_root / "models" / f"segmentation-{version.sha256[:16]}.onnx"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(local.read_bytes())
    return version, upload


def test_a_model_file_is_fetched_from_the_shared_root_then_served_from_the_cache(db, two_workstations, tmp_path):
    a, b = two_workstations
    version, upload = _shared_model(db, a, tmp_path)
    assert version.local_file(shared_root=a.shared_data_root, cache_dir=a.cache_dir) == Path(version.path)
    Path(version.path).unlink()  # B's disk: the registered path is not there
    seen_by_b = ModelRegistry(db).get(version.id)
    fetched = seen_by_b.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)
    assert fetched == b.cache_dir / "models" / f"{version.sha256}.onnx"
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == version.sha256
    upload.unlink()  # a cache hit needs the shared root no more
    assert seen_by_b.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir) == fetched


def test_a_tampered_model_file_is_refused(db, two_workstations, tmp_path):
    a, b = two_workstations
    version, upload = _shared_model(db, a, tmp_path)
    original = upload.read_bytes()
    Path(version.path).unlink()  # B's disk: the registered path is not there
    upload.write_bytes(b"\x09weights" * 4096)  # the shared copy differs from the registry's sha256
    with pytest.raises(FileIntegrityError, match="does not match the registry's sha256"):
        version.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)
    assert not (b.cache_dir / "models").exists() or not any((b.cache_dir / "models").iterdir())  # nothing kept
    upload.write_bytes(original)
    cached = version.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)
    cached.write_bytes(cached.read_bytes()[:-1] + b"!")  # the cached copy changed after the fetch
    with pytest.raises(FileIntegrityError, match="cached model file"):
        version.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)


def test_a_model_nowhere_to_be_found_is_a_clear_error(db, two_workstations, tmp_path):
    a, b = two_workstations
    version, upload = _shared_model(db, a, tmp_path)
    upload.unlink()
    Path(version.path).unlink()
    with pytest.raises(FileIntegrityError, match="neither on this machine nor in the shared data root"):
        version.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)


def test_the_llm_service_uses_a_fetched_active_model(db, two_workstations, tmp_path):
    """Workstation B answers with the LLM version A registered and promoted: fetched, verified, cached."""
    from medstation.llm.backends.catalogue import active_model_path

    a, b = two_workstations
    gguf = a.models_dir / "clinic.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 2048)
    registry = ModelRegistry(db)
    version = registry.register(ModelKind.llm, "clinic model", gguf, source="user")
    registry.promote(version.id, "admin")
    (a.shared_data_root / object_relpath(version.sha256, ".gguf")).parent.mkdir(parents=True)
    (a.shared_data_root / object_relpath(version.sha256, ".gguf")).write_bytes(gguf.read_bytes())
    gguf.unlink()  # as on B: the registered path is not on this machine
    path = active_model_path(registry, b)
    assert path == b.cache_dir / "models" / f"{version.sha256}.gguf" and path.read_bytes()[:4] == b"GGUF"
    assert active_model_path(registry, None) is None  # one workstation alone: nothing to fetch from


def test_a_model_trained_on_a_workstation_is_published_and_found_under_another_mount(db, two_workstations):
    """Training in clinic mode registers the shared root's verified copy; a workstation that mounts the shared
    root elsewhere (the registered absolute path is not there) still finds it by sha256 under objects/."""
    from medstation.store.objects import shared_model_path

    a, b = two_workstations
    trained = a.models_dir / "finetuned" / "run7.pth"
    trained.parent.mkdir(parents=True)
    trained.write_bytes(b"\x07trained" * 2048)
    sha = hashlib.sha256(trained.read_bytes()).hexdigest()
    assert shared_model_path(None, trained, sha) == trained  # one workstation alone: left where it is
    with pytest.raises(FileIntegrityError, match="does not match"):
        shared_model_path(a.shared_data_root, trained, "0" * 64)
    published = shared_model_path(a.shared_data_root, trained, sha)
    assert published == a.shared_data_root / object_relpath(sha, ".pth") and published.read_bytes()[:8] == b"\x07trained"
    assert shared_model_path(a.shared_data_root, trained, sha) == published  # idempotent
    version = ModelRegistry(db).register(ModelKind.segmentation, "run 7", Path("/mnt/elsewhere") / object_relpath(
        sha, ".pth"), sha256=sha, source="fine-tuned")
    found = version.local_file(shared_root=b.shared_data_root, cache_dir=b.cache_dir)
    assert found == b.cache_dir / "models" / f"{sha}.pth" and found.read_bytes() == trained.read_bytes()
