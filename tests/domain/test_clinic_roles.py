"""Clinic server roles: the application role works but cannot alter the audit trail; workstations never migrate."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from medstation.access.roles import Actor, Role
from medstation.errors import UserFacingError
from medstation.store.audit_chain import verify_chain
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.server_roles import apply_grants, grant_statements
from medstation.store.tables import ModelKind, ModelStatus
from tests.pg_support import _sql


@pytest.fixture
def app_url(pg_admin_url, pg_url):
    """``pg_url``'s database reached as a fresh application role that was given only the clinic grants."""
    role, password = f"app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    _sql(pg_admin_url, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    owner = create_engine(pg_url)
    apply_grants(owner, role)
    owner.dispose()
    yield make_url(pg_url).set(username=role, password=password).render_as_string(hide_password=False)
    _sql(pg_admin_url, f"DROP OWNED BY {role}", database=make_url(pg_url).database)
    _sql(pg_admin_url, f"DROP ROLE {role}")


def test_app_role_appends_audit_but_cannot_alter_it(settings, app_url, tmp_path):
    db = Database(app_url, anchor_root=settings.home)
    try:
        for i in range(3):
            db.audit("clinic.work", actor="rita", entity="series", entity_id=i)
        weights = tmp_path / "w.pth"
        weights.write_bytes(b"weights")
        registry = ModelRegistry(db)  # ordinary clinical writes (and their audit events) work as the app role
        version = registry.register(ModelKind.segmentation, "w", weights, status=ModelStatus.candidate)
        registry.promote(version.id, Actor("ada", Role.admin).name)
        for statement in ("UPDATE audit_event SET actor = 'mallory' WHERE id = 1",
                          "DELETE FROM audit_event WHERE id = 1",
                          "TRUNCATE audit_event"):
            with pytest.raises(ProgrammingError, match="permission denied"):
                with db.engine.begin() as conn:
                    conn.execute(text(statement))
        raw = db.engine.raw_connection()
        try:
            report = verify_chain(raw.driver_connection, anchor=db.anchor)
        finally:
            raw.close()
        assert report.intact and report.checked >= 4
    finally:
        db.close()


def test_grant_statements_refuse_odd_role_names():
    with pytest.raises(UserFacingError):
        grant_statements('app"; DROP TABLE audit_event; --')
    assert "GRANT SELECT, INSERT ON audit_event" in " ".join(grant_statements("medstation_app"))


def test_workstation_refuses_an_old_schema_and_names_the_admin_command(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    engine.dispose()
    with pytest.raises(UserFacingError, match="medstation db migrate"):
        Database(pg_url)
