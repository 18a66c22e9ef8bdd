"""Main window: role-tailored tabs, sign-out / switch user (back to sign-in, work kept), Quit through the close path,
and the active segmentation model named in the Viewer."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from PySide6.QtGui import QKeySequence
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.access.users import AccountStore
from medstation.app import build_services
from medstation.config import Settings
from medstation.store.tables import AuditEvent
from medstation.ui.main_window import MainWindow
from medstation.ui.runner import JobRunner

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
STRONG = "Quarry-velvet-trombone-47"


@pytest.fixture
def make_window(qtbot, medstation_home):
    made = []

    def make(actor: Actor):
        services = build_services(Settings(sample_study=False), session=UserSession(actor))
        runner = JobRunner()
        window = MainWindow(services, runner)
        qtbot.addWidget(window)
        made.append((runner, services))
        return window

    yield make
    for runner, services in made:
        runner.shutdown()
        services.close()


@pytest.mark.parametrize("role, tabs, edit, export", [
    (Role.therapist, ["chat", "notes"], False, False),
    (Role.radiologist, ["viewer", "chat"], True, True),
    (Role.read_only, ["viewer", "chat", "notes"], False, False),
    (Role.admin, ["viewer", "chat", "notes", "admin"], True, True),
])
def test_each_role_sees_only_its_tabs_and_buttons(qtbot, make_window, role, tabs, edit, export):
    window = make_window(Actor("someone", role))
    window.show()
    assert window.visible_tab_names() == tabs
    assert (window.admin_tab is not None) == ("admin" in tabs)
    assert window.viewer_tab.side_tabs.isVisible() == (edit and "viewer" in tabs)  # segmentation: draw, accept
    assert window.viewer_tab.toolbar.export.isVisible() == export
    assert all(window.viewer_tab.toolbar.tool_actions[t].isVisible() == edit for t in ("ruler", "roi", "angle"))
    assert window.tabs.currentWidget() is getattr(window, f"{tabs[0]}_tab")
    assert f"someone ({role.value})" in window.windowTitle()


def test_admin_tab_has_users_and_datasets_sections_for_an_admin(qtbot, make_window):
    window = make_window(Actor("ann", Role.admin))
    sections = window.admin_tab.sections
    titles = [sections.tabText(i) for i in range(sections.count())]
    assert titles == ["Models and training", "Users", "Datasets", "Audit trail"]


def test_sign_out_covers_the_window_and_the_next_person_gets_their_own_tabs(qtbot, make_window):
    window = make_window(Actor("alice", Role.admin))
    store = AccountStore(window.services.db, hasher=FAST)
    store.add_user("alice", Role.admin, STRONG)
    store.add_user("tina", Role.therapist, STRONG, session=window.services.session)
    window.show()
    assert window.sign_out()
    cover = window.switcher.cover
    assert cover.isVisible() and window.services.session.actor is None
    qtbot.waitUntil(lambda: _actions(window, "user.logout") == [("alice", "alice")], timeout=5000)
    cover.name.setText("tina")
    cover.password.setText("not her password")
    cover.button.click()
    qtbot.waitUntil(lambda: "Wrong user name or password" in cover.error.text(), timeout=10000)
    assert window.services.session.actor is None and cover.isVisible()
    cover.name.setText("tina")
    cover.password.setText(STRONG)
    cover.button.click()
    qtbot.waitUntil(lambda: window.services.session.actor is not None, timeout=10000)
    assert window.services.session.actor == Actor("tina", Role.therapist)
    assert not cover.isVisible() and window.visible_tab_names() == ["chat", "notes"]
    assert "tina (therapist)" in window.windowTitle()


def test_sign_out_with_unsaved_drafts_asks_and_staying_keeps_the_person(qtbot, make_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window = make_window(Actor("alice", Role.admin))
    store = AccountStore(window.services.db, hasher=FAST)
    store.add_user("alice", Role.admin, STRONG)
    monkeypatch.setattr(window.viewer_tab, "unsaved_work", lambda: ["draft segment 'Spleen'"])
    window.switcher.unsaved_work = window.viewer_tab.unsaved_work
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    assert not window.sign_out()
    assert window.services.session.actor.name == "alice" and "Spleen" in asked[0]


def test_single_user_mode_has_no_one_to_switch_to(qtbot, make_window):
    window = make_window(Actor("os-user", Role.admin))
    assert not window.sign_out()
    assert window.services.session.actor is not None and "create an admin" in window.statusBar().currentMessage()


def test_quit_shortcut_goes_through_the_normal_close_path(qtbot, make_window, monkeypatch):
    window = make_window(Actor("rita", Role.radiologist))
    window.show()
    standard = QKeySequence(QKeySequence.StandardKey.Quit)  # empty on platforms without one (offscreen, Windows)
    assert window.quit_action.shortcut() == (standard if not standard.isEmpty() else QKeySequence("Ctrl+Q"))
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.quit_action in window.actions()  # works from any tab, menu open or not
    answers = [False, True]
    monkeypatch.setattr(window.viewer_tab, "confirm_close", lambda: answers.pop(0))
    window.quit_action.trigger()
    assert window.isVisible() and answers == [True]  # "keep working" answered: the window stays
    window.quit_action.trigger()
    assert not window.isVisible()


def test_the_viewer_names_the_active_segmentation_model(qtbot, make_window, tmp_path):
    window = make_window(Actor("ann", Role.admin))
    label = window.viewer_tab.toolbar.model_label
    with qtbot.waitSignal(window.refresh_model_version().sig_done, timeout=10000):
        pass
    assert "bundled LiteMedSAM" in label.text()
    (tmp_path / "m.pth").write_bytes(b"weights")
    version = window.services.registry.register("segmentation", "LiteMedSAM ft", tmp_path / "m.pth", status="active")
    window.admin_tab.sig_models_changed.emit()  # what a promotion or rollback in the Admin tab emits
    qtbot.waitUntil(lambda: label.text() == f"Segmentation model: #{version.id} LiteMedSAM ft", timeout=10000)


def _actions(window, action):
    with window.services.db.session() as s:
        return [(e.actor, e.entity_id) for e in s.exec(select(AuditEvent).where(AuditEvent.action == action))]
