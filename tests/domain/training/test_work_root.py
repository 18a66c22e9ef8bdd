"""Clinic mode: dataset snapshots and run folders go to the shared data root, so a training agent on
another machine (the shared root mounted at the same path) reads the snapshot and writes the run where
every workstation sees it. Fails on d0290e0, where both stayed in the queuing workstation's own home."""

from __future__ import annotations

from pathlib import Path

from medstation.access.roles import Actor, Role, UserSession
from medstation.config import Settings
from medstation.store.model_registry import ModelRegistry
from medstation.training.service import TrainingService
from tests.domain.training.litemedsam.test_training_search import _items_for_snapshot


def _service(settings, db) -> TrainingService:
    return TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                           registry=ModelRegistry(db))


def _build_and_queue(tmp_path, db, shared: Path | None):
    from medstation.jobs import JobContext

    settings = Settings(home=tmp_path / "ws-a", shared_data_root=shared)
    settings.ensure_dirs()
    service = _service(settings, db)
    version = service._snapshot(JobContext(), name="squares", kind="segmentation", origin="test",
                                items=_items_for_snapshot())
    (settings.home / "base.pth").write_bytes(b"base")
    service.registry.register("segmentation", "base", settings.home / "base.pth", status="active",
                              meta={"engine": "litemedsam"})
    run = service.queue_segmentation(version.id, epochs=1)
    return settings, version, run


def test_clinic_mode_puts_snapshots_and_run_folders_in_the_shared_root(tmp_path, db):
    shared = tmp_path / "shared"
    settings, version, run = _build_and_queue(tmp_path, db, shared)
    assert Path(version.path).is_relative_to(shared)
    assert Path(run.run_dir).is_relative_to(shared) and Path(run.run_dir).is_dir()
    assert not (settings.home / "datasets").exists()


def test_a_single_workstation_keeps_them_in_its_home(tmp_path, db):
    settings, version, run = _build_and_queue(tmp_path, db, None)
    assert Path(version.path).is_relative_to(settings.home)
    assert Path(run.run_dir).is_relative_to(settings.home)
