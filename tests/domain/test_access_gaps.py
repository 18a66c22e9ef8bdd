"""Issue 20's access gaps: denials are audited, every event has an actor (workers included),
common passwords are refused; issue 19 item 7: text leaves the machine only on purpose."""

from __future__ import annotations

import logging

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.headless import bind_audit_actor
from medstation.access.password_policy import WeakPassword, check_password
from medstation.access.roles import Actor, NotSignedIn, Permission, Role, UserSession
from medstation.access.users import AccountError, AccountStore
from medstation.errors import PermissionDenied
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _events(db, action=None):
    with db.session() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return s.exec(query).all()


# --- permission denials are audited where permissions are checked (fails on 1c99c71: none were) ---------


def test_a_refused_permission_is_an_audit_event(db):
    session = bind_audit_actor(db, UserSession(Actor("tom", Role.therapist)))
    with pytest.raises(PermissionDenied):
        session.require(Permission.view_imaging)
    denied = _events(db, "access.denied")
    assert [(e.actor, e.role, e.entity, e.entity_id) for e in denied] == [
        ("tom", "therapist", "permission", "view_imaging")]
    assert "may not view imaging" in denied[0].detail["reason"]


def test_a_service_refusal_is_audited(settings, db):
    """The check inside a domain service (not only the command line) records the denial."""
    from medstation.imaging.service import ImagingService

    session = bind_audit_actor(db, UserSession(Actor("tom", Role.therapist)))
    with pytest.raises(PermissionDenied):
        ImagingService(settings, db, session=session).patients()
    assert [e.actor for e in _events(db, "access.denied")] == ["tom"]


def test_locked_or_signed_out_refusals_are_audited_too(db):
    session = bind_audit_actor(db, UserSession(Actor("rita", Role.radiologist)))
    session.lock()
    with pytest.raises(NotSignedIn):
        session.require(Permission.view_imaging)
    session.sign_out()
    with pytest.raises(NotSignedIn):
        session.require(Permission.view_imaging)
    assert [e.actor for e in _events(db, "access.denied")] == ["rita", "anonymous"]


def test_allowed_actions_are_not_logged_as_denials(db):
    session = bind_audit_actor(db, UserSession(Actor("rita", Role.radiologist)))
    assert session.require(Permission.view_imaging).name == "rita"
    assert _events(db, "access.denied") == []


# --- every audit event has an actor ------------------------------------------------------------------


def test_event_without_actor_or_signed_in_person_names_the_system(db):
    db.audit("kb.rebuild", entity="kb")
    assert [(e.actor, e.action) for e in _events(db)] == [("system", "kb.rebuild")]


def test_model_registered_by_the_training_worker_names_who_started_the_run(settings, db, monkeypatch):
    """The worker is a separate process with no session: its model.register named no one on 1c99c71."""
    from medstation.store.tables import ModelKind
    from medstation.training import runs, worker

    store = AccountStore(db, hasher=FAST)
    store.add_user("alice", Role.admin, "Admin kettle 42!")
    info = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                        params={}, actor="alice")
    weights = settings.models_dir / "finetuned" / "tuned.pth"
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"weights" * 10)

    def fake_training(settings_, db_, registry, run, ctx):
        model = registry.register(ModelKind.segmentation, f"run {run.id}", weights, source="fine-tuned")
        return {"model_version_id": model.id, "metrics": {}, "note": "", "history": []}

    monkeypatch.setattr(worker, "run_segmentation", fake_training)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert worker.main(info.id) == 0
    finally:
        for handler in root.handlers[len(handlers):]:
            root.removeHandler(handler)
            handler.close()
    registered = _events(db, "model.register")
    assert [(e.actor, e.role) for e in registered] == [("alice", "admin")]
    assert all(e.actor for e in _events(db))


# --- passwords (fails on 1c99c71: "password" was accepted as an admin password) -----------------------


@pytest.mark.parametrize("password, rule", [
    ("password", "at least 10"),
    ("Password123!", "common"),
    ("P@ssw0rd2024", "common"),
    ("qwertyuiop1", "common"),
    ("1234567890", "two kinds"),
    ("hospital2025!", "common"),
    ("aaaaaaaaa1", "different"),
    ("alice-kettle-9", "user name"),
    ("onlylowercaseletters", "two kinds"),
])
def test_weak_passwords_are_refused_with_the_rule(password, rule):
    with pytest.raises(WeakPassword, match=rule):
        check_password(password, "alice")


@pytest.mark.parametrize("password", ["correct horse battery", "Kettle drum 42", "blue-fern-river-7"])
def test_reasonable_passphrases_pass(password):
    check_password(password, "alice")


def test_password_as_admin_password_is_refused_by_the_account_store(db):
    store = AccountStore(db, hasher=FAST)
    with pytest.raises(AccountError, match="at least 10"):
        store.add_user("alice", Role.admin, "password")
    with pytest.raises(AccountError, match="common"):
        store.add_user("alice", Role.admin, "password1234")
    assert not store.has_accounts()


def test_password_rule_on_the_command_line(monkeypatch, capsys):
    from medstation.cli import main

    monkeypatch.setenv("MEDSTATION_PASSWORD", "password")
    assert main(["users", "add", "alice", "--role", "admin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


# --- item 7: an OpenAI-compatible server off this machine needs MEDSTATION_ALLOW_REMOTE_LLM ---------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost:8080/v1", "http://[::1]:8000/v1",
                                 "http://127.0.0.2:9000"])
def test_loopback_servers_need_no_setting(url):
    from medstation.llm.backends.openai_http import OpenAIHttpBackend

    assert OpenAIHttpBackend(url).base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000/v1", "https://api.example.com/v1", "http://gpu-box:8000/v1",
                                 "http://localhost.example.com/v1"])
def test_remote_servers_are_refused_unless_allowed(url):
    from medstation.llm.backends.openai_http import OpenAIHttpBackend, RemoteServerRefused

    with pytest.raises(RemoteServerRefused, match="MEDSTATION_ALLOW_REMOTE_LLM=true"):
        OpenAIHttpBackend(url)
    assert OpenAIHttpBackend(url, allow_remote=True).base_url == url.rstrip("/")


def test_llm_service_honours_the_setting(monkeypatch, db):
    from medstation.config import Settings
    from medstation.llm.backends.openai_http import RemoteServerRefused
    from medstation.llm.service import LLMService

    monkeypatch.setenv("MEDSTATION_LLM_BACKEND", "openai")
    monkeypatch.setenv("MEDSTATION_OPENAI_BASE_URL", "http://192.0.2.10:8000/v1")
    with pytest.raises(RemoteServerRefused, match="not on this machine"):
        LLMService(Settings(), db, registry=ModelRegistry(db)).backend()
    monkeypatch.setenv("MEDSTATION_ALLOW_REMOTE_LLM", "true")
    assert LLMService(Settings(), db, registry=ModelRegistry(db)).backend().base_url == "http://192.0.2.10:8000/v1"
