"""Notes and training permissions through their services: therapists write and sign notes, radiologists
cannot see them; only admins train, promote or roll back models."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import PermissionDenied, UserFacingError
from medstation.notes.service import NotesService
from medstation.store.model_registry import ModelRegistry
from medstation.training.service import TrainingService


def _as(role):
    return UserSession(Actor(f"a-{role.value}", role))


@pytest.fixture
def client_id(settings, db):
    return NotesService(settings, db, _as(Role.therapist)).create_client("C-001").id


@pytest.mark.parametrize("role, allowed", [(Role.therapist, True), (Role.read_only, True), (Role.admin, True),
                                           (Role.radiologist, False)])
def test_view_notes(settings, db, client_id, role, allowed):
    notes = NotesService(settings, db, _as(role))
    if allowed:
        assert [c.code for c in notes.clients()] == ["C-001"]
    else:
        with pytest.raises(PermissionDenied, match="may not view notes"):
            notes.clients()
        with pytest.raises(PermissionDenied):
            notes.sessions(client_id)


@pytest.mark.parametrize("role, allowed", [(Role.therapist, True), (Role.admin, True),
                                           (Role.read_only, False), (Role.radiologist, False)])
def test_edit_notes(settings, db, client_id, role, allowed):
    notes = NotesService(settings, db, _as(role))
    if allowed:
        assert notes.create_session(client_id, "2026-12-02").client_id == client_id
    else:
        with pytest.raises(PermissionDenied, match="may not edit notes"):
            notes.create_session(client_id, "2026-12-02")
        with pytest.raises(PermissionDenied):
            notes.create_client("C-002")


@pytest.mark.parametrize("role", [Role.read_only, Role.radiologist])
def test_sign_notes(settings, db, role):
    with pytest.raises(PermissionDenied, match="may not sign notes"):
        NotesService(settings, db, _as(role)).sign(1, "text")


def test_therapist_passes_the_sign_check(settings, db):
    with pytest.raises(UserFacingError) as caught:  # the permission passes; the note does not exist
        NotesService(settings, db, _as(Role.therapist)).sign(12345, "text")
    assert not isinstance(caught.value, PermissionDenied)


def test_role_is_recorded_for_services_that_log_a_name(settings, db):
    from medstation.access.headless import bind_audit_actor

    session = bind_audit_actor(db, _as(Role.therapist))
    NotesService(settings, db, session).create_client("C-009")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT actor, role FROM audit_event WHERE action = 'notes.client.create'")).one()
    assert tuple(row) == ("a-therapist", "therapist")


@pytest.mark.parametrize("role", [Role.radiologist, Role.therapist, Role.read_only])
def test_only_admins_train_promote_and_roll_back(settings, db, role, tmp_path):
    training = TrainingService(settings=settings, db=db, session=_as(role), registry=ModelRegistry(db))
    with pytest.raises(PermissionDenied, match="may not manage models"):
        training.promote(1, force=True)
    with pytest.raises(PermissionDenied, match="may not manage models"):
        training.rollback("segmentation")
    with pytest.raises(PermissionDenied, match="may not train models"):
        training.import_seg2d(None, tmp_path / "manifest.json")


def test_admin_passes_the_model_checks(settings, db):
    training = TrainingService(settings=settings, db=db, session=_as(Role.admin), registry=ModelRegistry(db))
    with pytest.raises(UserFacingError, match="no model version #999") as caught:
        training.promote(999, force=True)
    assert not isinstance(caught.value, PermissionDenied)
