"""ModelRegistry: idempotent registration, one active version per kind, atomic promote/rollback/restore."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import PermissionDenied
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry, RegistryError, file_sha256
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus

pytestmark = pytest.mark.both_engines
ADMIN = "ada"  # the registry records an actor name; the services check the permission first


def _file(folder, name, content: bytes):
    path = folder / name
    path.write_bytes(content)
    return path


def _actions(db):
    with db.session() as s:
        return [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_register_is_idempotent_and_follows_a_moved_file(db, tmp_path):
    reg = ModelRegistry(db)
    path = _file(tmp_path, "a.pth", b"weights-a")
    first = reg.register(ModelKind.segmentation, "A", path, dataset_version="ds-1",
                         hyperparameters={"lr": 1e-4}, metrics={"dice": 0.8})
    assert first.sha256 == file_sha256(path) and first.status == ModelStatus.candidate
    assert first.hyperparameters == {"lr": 1e-4} and first.dataset_version == "ds-1" and first.size_bytes == 9
    moved = tmp_path / "moved.pth"
    path.rename(moved)
    again = reg.register("segmentation", "A", moved)
    assert again.id == first.id and again.path == str(moved)
    assert len(reg.history()) == 1 and _actions(db) == ["model.register"]


def test_active_is_granted_only_when_none_is_active(db, tmp_path):
    reg = ModelRegistry(db)
    a = reg.register(ModelKind.llm, "a", _file(tmp_path, "a", b"a"), status=ModelStatus.active)
    b = reg.register(ModelKind.llm, "b", _file(tmp_path, "b", b"b"), status=ModelStatus.active)
    assert a.status == ModelStatus.active and b.status == ModelStatus.candidate
    assert reg.active(ModelKind.llm).id == a.id and reg.active(ModelKind.segmentation) is None


def test_promote_rollback_restore(db, tmp_path):
    reg = ModelRegistry(db)
    base = reg.register(ModelKind.segmentation, "base", _file(tmp_path, "0", b"0"), status=ModelStatus.active)
    tuned = reg.register(ModelKind.segmentation, "tuned", _file(tmp_path, "1", b"1"), parent_id=base.id)
    promoted = reg.promote(tuned.id, ADMIN)
    assert promoted.status == ModelStatus.active and promoted.previous_active_id == base.id
    assert reg.get(base.id).status == ModelStatus.retired and reg.active_id("segmentation") == tuned.id
    back = reg.rollback(ModelKind.segmentation, ADMIN)
    assert back.id == base.id and reg.get(tuned.id).status == ModelStatus.retired
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        reg.rollback(ModelKind.segmentation, ADMIN)  # base replaced nothing
    restored = reg.restore(tuned.id, ADMIN)
    assert restored.status == ModelStatus.active and restored.previous_active_id == base.id
    with pytest.raises(RegistryError, match="only candidate"):
        reg.promote(base.id, ADMIN)  # retired: restore it instead
    assert _actions(db)[-3:] == ["model.promote", "model.rollback", "model.restore"]
    with db.session() as s:
        promote = s.exec(select(AuditEvent).where(AuditEvent.action == "model.promote")).one()
    assert promote.actor == "ada" and promote.detail == {"kind": "segmentation", "from_version": base.id,
                                                         "to_version": tuned.id}


def test_promote_needs_manage_models_and_failure_changes_nothing(db, settings, tmp_path):
    from medstation.training.service import TrainingService

    reg = ModelRegistry(db)
    base = reg.register(ModelKind.llm, "base", _file(tmp_path, "0", b"0"), status=ModelStatus.active)
    cand = reg.register(ModelKind.llm, "cand", _file(tmp_path, "1", b"1"))
    radiologist = TrainingService(settings=settings, db=db, session=UserSession(Actor("rad", Role.radiologist)),
                                  registry=reg)
    with pytest.raises(PermissionDenied):  # the service checks manage_models before the registry is asked
        radiologist.promote(cand.id, force=True, reason="test")
    with pytest.raises(TypeError, match="actor name"):  # an Actor object is a wiring mistake, not a name
        reg.promote(cand.id, Actor("rad", Role.radiologist))
    with pytest.raises(RegistryError, match="no model version #999"):
        reg.promote(999, ADMIN)
    assert reg.active(ModelKind.llm).id == base.id and reg.get(cand.id).status == ModelStatus.candidate


def test_update_metrics_merges(db, tmp_path):
    reg = ModelRegistry(db)
    v = reg.register(ModelKind.segmentation, "v", _file(tmp_path, "v", b"v"), metrics={"dice": 0.7})
    assert reg.update_metrics(v.id, {"nsd": 0.6}).metrics == {"dice": 0.7, "nsd": 0.6}


def test_concurrent_registration_of_one_file_gives_one_row(settings, store_location, tmp_path):
    path = _file(tmp_path, "same.gguf", b"same weights")
    sha = file_sha256(path)
    dbs = [Database(store_location, anchor_root=settings.home) for _ in range(4)]
    barrier = threading.Barrier(len(dbs))
    ids, errors = [], []

    def register(db):
        try:
            barrier.wait()
            ids.append(ModelRegistry(db).register(ModelKind.llm, "same", path, sha256=sha,
                                                  status=ModelStatus.active).id)
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(set(ids)) == 1
        assert [v.status for v in ModelRegistry(dbs[0]).history()] == [ModelStatus.active]
    finally:
        for db in dbs:
            db.close()


def test_promote_and_rollback_are_atomic_under_two_writers(settings, store_location, tmp_path):
    """Two writers (own engines on one store) promote and roll back at once; the chain stays consistent."""
    setup = Database(store_location, anchor_root=settings.home)
    reg = ModelRegistry(setup)
    versions = [reg.register(ModelKind.segmentation, f"v{i}", _file(tmp_path, f"v{i}", bytes([i])),
                             status=ModelStatus.active if i == 0 else ModelStatus.candidate) for i in range(9)]
    writers = [Database(store_location, anchor_root=settings.home) for _ in range(2)]
    barrier = threading.Barrier(2)
    done, errors = [[], []], []

    def work(n):
        mine = ModelRegistry(writers[n])
        barrier.wait()
        try:
            for v in versions[1 + n::2]:  # writer 0 promotes v1, v3, ...; writer 1 v2, v4, ...
                mine.promote(v.id, ADMIN)
                done[n].append("model.promote")
                if v.id % 3 == 0:
                    mine.rollback(ModelKind.segmentation, ADMIN)
                    done[n].append("model.rollback")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        history = reg.history(ModelKind.segmentation)
        assert sum(v.status == ModelStatus.active for v in history) == 1
        assert all(v.status in (ModelStatus.retired, ModelStatus.active) for v in history)
        # every transition left exactly one audit record
        actions = [a for a in _actions(setup) if a in ("model.promote", "model.rollback")]
        assert sorted(actions) == sorted(done[0] + done[1])
        # the rollback chain points only at versions that were active before
        by_id = {v.id: v for v in history}
        active = reg.active(ModelKind.segmentation)
        assert active.previous_active_id is None or by_id[active.previous_active_id].status == ModelStatus.retired
    finally:
        for db in writers + [setup]:
            db.close()


@hsettings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["promote", "rollback", "restore"]), st.integers(0, 3)), max_size=12))
def test_any_sequence_of_transitions_keeps_one_active(tmp_path_factory, ops):
    folder = tmp_path_factory.mktemp("reg")
    db = Database(folder / "r.db")
    try:
        reg = ModelRegistry(db)
        ids = [reg.register(ModelKind.llm, f"m{i}", _file(folder, f"m{i}", bytes([i])),
                            status=ModelStatus.active if i == 0 else ModelStatus.candidate).id for i in range(4)]
        for op, i in ops:
            try:
                if op == "rollback":
                    reg.rollback(ModelKind.llm, ADMIN)
                else:
                    getattr(reg, op)(ids[i], ADMIN)
            except RegistryError:
                pass  # refused transitions must change nothing; the invariant below checks that
            statuses = [v.status for v in reg.history(ModelKind.llm)]
            assert statuses.count(ModelStatus.active) == 1
    finally:
        db.close()
