"""The GUI thread never touches the database (issue 21, part 4): writes run in lanes, failures reach ui/errors,
the Notes autosave never loses text (coalesced, flushed on switch and close, retried after a failure).

Failed on ba9a5bd: the lane enum, the default failure route, the idle lock's audits and unlock, the blind mask
choice's record and the Admin ledger on the GUI thread, no autosave flush on close or tab switch, and an
autosave that failed once was never retried. Promote, rollback, autosave and accept already ran in the io
lane there; their tests pin it by the thread the service call ran on.
"""

from __future__ import annotations

import threading

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.notes.service import NotesService
from medstation.store.tables import NoteAutosave
from medstation.ui.runner import JobRunner
from tests.ui.notes_world import show_session, wait_idle, world  # noqa: F401 (fixture)

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _recording(obj, name: str, threads: list):
    """Wrap ``obj.name`` so every call records the thread it ran on."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    setattr(obj, name, wrapper)


def _off_gui(threads: list) -> bool:
    return bool(threads) and all(t is not threading.main_thread() for t in threads)


# --- the runner ---------------------------------------------------------------------------------------

def test_lane_names_are_an_enum_that_older_string_callers_still_match(qtbot):
    from medstation.ui.runner import LANES, Lane

    assert Lane.IO == "io" and Lane("segmentation") is Lane.SEGMENTATION and set(LANES) == set(Lane)
    runner = JobRunner()
    handle = runner.submit("io", lambda ctx: 1)
    assert handle.lane is Lane.IO
    with pytest.raises(ValueError, match="unknown lane"):
        runner.submit("disk", lambda ctx: 1)
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    runner.shutdown()


def _boom(ctx):
    raise RuntimeError("the disk went away")


def test_a_failure_nobody_listens_to_reaches_ui_errors(qtbot, monkeypatch):
    from medstation.ui import errors

    shown = []
    monkeypatch.setattr(errors, "show_error", lambda parent, title, message, details="": shown.append(
        (title, message, details)))
    runner = JobRunner()
    handle = runner.submit("io", _boom, name="save the note")
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    assert len(shown) == 1
    title, message, details = shown[0]
    assert title == "Save the note failed" and message == "the disk went away" and "RuntimeError" in details
    runner.shutdown()


def test_an_expected_failure_nobody_listens_to_is_still_said(qtbot, monkeypatch):
    from medstation.ui import errors

    shown = []
    monkeypatch.setattr(errors, "show_error", lambda parent, title, message, details="": shown.append(message))
    runner = JobRunner()

    def refused(ctx):
        raise UserFacingError("You may not do that.")

    handle = runner.submit("io", refused)
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    assert shown == ["You may not do that."]
    runner.shutdown()


def test_the_callers_own_failure_handler_replaces_the_default(qtbot, monkeypatch):
    from medstation.ui import errors

    shown, mine, connected = [], [], []
    monkeypatch.setattr(errors, "show_error", lambda *a, **k: shown.append(a))
    runner = JobRunner()
    first = runner.submit("io", _boom, on_failed=lambda m, tb, exc: mine.append((m, type(exc))))
    second = runner.submit("io", _boom, queue=True)
    second.sig_failed.connect(lambda m, tb: connected.append(m))  # connected after submit, as tabs do
    with qtbot.waitSignal(second.sig_finished, timeout=5000):
        pass
    qtbot.waitUntil(lambda: first.finished)
    assert mine == [("the disk went away", RuntimeError)] and connected == ["the disk went away"] and shown == []
    runner.shutdown()


# --- Admin: promote, rollback, ledger --------------------------------------------------------------

@pytest.fixture
def admin(qtbot, db, settings, monkeypatch):
    from medstation.store.model_registry import ModelRegistry
    from medstation.training.service import TrainingService
    from medstation.ui.admin import reason_dialog
    from medstation.ui.admin.tab import AdminTab

    monkeypatch.setattr(reason_dialog, "ask_reason", lambda *a, **k: "tested off the GUI thread")
    registry = ModelRegistry(db)
    (settings.home / "base.pth").write_bytes(b"base")
    (settings.home / "ft.pth").write_bytes(b"fine-tuned")
    base = registry.register("segmentation", "LiteMedSAM", settings.home / "base.pth", status="active")
    cand = registry.register("segmentation", "LiteMedSAM ft", settings.home / "ft.pth", parent_id=base.id)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    runner = JobRunner()
    widget = AdminTab(service, runner, service.session)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.registry_table.selectRow(0)
    yield widget, service, registry, cand
    runner.shutdown()


def test_promote_and_rollback_run_off_the_gui_thread(qtbot, admin):
    widget, service, registry, cand = admin
    promoted, rolled = [], []
    _recording(service, "promote", promoted)
    _recording(service, "rollback", rolled)
    assert widget.decisions.selected().id == cand.id
    handle = widget.decisions.force_promote()
    with qtbot.waitSignal(handle.sig_done, timeout=10000):
        pass
    assert _off_gui(promoted) and registry.get(cand.id).status.value == "active"
    handle = widget.decisions.rollback()
    with qtbot.waitSignal(handle.sig_done, timeout=10000):
        pass
    assert _off_gui(rolled) and registry.get(cand.id).status.value == "retired"


def test_the_ledger_is_read_off_the_gui_thread(qtbot, admin):
    widget, service, _registry, cand = admin
    threads = []
    _recording(service, "ledger", threads)
    widget.ledger_button.click()
    qtbot.waitUntil(lambda: widget.ledger.text().startswith(f"#{cand.id} made 0 masks"), timeout=10000)
    assert _off_gui(threads)


# --- the idle lock -------------------------------------------------------------------------------------

def test_idle_lock_audits_and_unlock_run_off_the_gui_thread(qtbot, db):
    from PySide6.QtWidgets import QMainWindow

    from medstation.access.users import AccountStore
    from medstation.ui.access.idle_lock import IdleLock

    store = AccountStore(db, hasher=FAST)
    store.add_user("alice", Role.admin, "admin password")
    store.add_user("rita", Role.radiologist, "radiology pw long enough",
                   session=UserSession(Actor("alice", Role.admin)))
    session = UserSession(Actor("rita", Role.radiologist))
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    runner = JobRunner()
    lock = IdleLock(window, store, session, minutes=0, runner=runner)
    audits, checks = [], []
    _recording(db, "audit", audits)
    _recording(store, "authenticate", checks)
    lock.lock_now()
    assert session.locked and lock.cover.isVisible()  # covered at once; the audit follows in the io lane
    qtbot.waitUntil(lambda: not runner.active(), timeout=10000)
    lock.cover.password.setText("radiology pw long enough")
    lock.cover.try_unlock()
    assert session.locked  # not before the password was checked (off the GUI thread)
    qtbot.waitUntil(lambda: not session.locked and not lock.cover.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: not runner.active(), timeout=10000)
    assert len(audits) == 3 and _off_gui(audits) and _off_gui(checks)  # locked, login, unlocked
    from medstation.store.tables import AuditEvent
    with db.session() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == ["session.locked", "user.login", "session.unlocked"]
    runner.shutdown()


# --- Notes: autosave -----------------------------------------------------------------------------------

def _type(tab, text: str) -> None:
    cursor = tab.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    tab.editor.setTextCursor(cursor)
    tab.editor.insertPlainText(text)


def _autosaved(notes: NotesService, note_id: int) -> str | None:
    with notes.db.session() as s:
        row = s.exec(select(NoteAutosave).where(NoteAutosave.note_id == note_id)).first()
        return row.text if row is not None else None


def test_autosave_runs_off_the_gui_thread(qtbot, world):  # noqa: F811
    show_session(qtbot, world, world.sa)
    threads = []
    _recording(world.notes, "autosave", threads)
    _type(world.tab, " Typed while the clock ticks.")
    world.tab.actions.autosave()
    wait_idle(qtbot, world.runner)
    assert _off_gui(threads) and _autosaved(world.notes, world.note_a.id).endswith("Typed while the clock ticks.")


def test_a_failed_autosave_is_retried_without_another_keystroke(qtbot, world, monkeypatch):  # noqa: F811
    from medstation.ui import errors

    monkeypatch.setattr(errors, "show_error", lambda *a, **k: None)
    show_session(qtbot, world, world.sa)
    world.tab.autosave_timer.stop()  # the test ticks the clock itself
    original, calls = world.notes.autosave, []

    def locked_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise UserFacingError("The database is busy.")
        return original(*args)

    monkeypatch.setattr(world.notes, "autosave", locked_once)
    _type(world.tab, " Words that must survive a busy database.")
    world.tab.actions.autosave()
    wait_idle(qtbot, world.runner)
    assert len(calls) == 1 and _autosaved(world.notes, world.note_a.id) is None
    world.tab.actions.autosave()  # the next tick, no new keystroke
    wait_idle(qtbot, world.runner)
    assert _autosaved(world.notes, world.note_a.id).endswith("Words that must survive a busy database.")


def test_autosave_coalesces_edits_and_saves_the_latest(qtbot, world, monkeypatch):  # noqa: F811
    show_session(qtbot, world, world.sa)
    world.tab.autosave_timer.stop()
    saved = []
    _recording(world.notes, "autosave", saved)
    for word in ("one", "two", "three"):
        _type(world.tab, f" {word}")
        world.tab.actions.autosave()  # ticks while the first save may still be running
    wait_idle(qtbot, world.runner)
    world.tab.actions.autosave()
    wait_idle(qtbot, world.runner)
    assert 1 <= len(saved) <= 3
    assert _autosaved(world.notes, world.note_a.id).endswith(" one two three")


@pytest.fixture
def notes_window(qtbot, medstation_home):
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.jobs import JobContext
    from medstation.ui.main_window import MainWindow
    from tests.ui.notes_world import SESSION_A

    services = build_services(Settings(sample_study=False), session=UserSession(Actor("dr.lee", Role.therapist)))
    notes = services.notes
    client = notes.create_client("C-101")
    visit = notes.create_session(client.id, "2026-11-30")
    notes.import_transcript(visit.id, SESSION_A, "a.txt")
    note = notes.draft(JobContext(), visit.id, "soap")
    runner = JobRunner()
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    window.show()
    window.select_tab("notes")
    tab = window.notes_tab
    tab.select_session(visit.id)
    wait_idle(qtbot, runner)
    qtbot.waitUntil(lambda: tab.note is not None and tab.note.id == note.id, timeout=10000)
    tab.autosave_timer.stop()  # the edit below lands between two ticks
    yield window, tab, notes, note
    runner.shutdown()
    services.close()


def test_autosave_flushes_when_the_window_closes(qtbot, notes_window):
    window, tab, notes, note = notes_window
    _type(tab, " Written a moment before closing.")
    assert window.close()
    assert (_autosaved(notes, note.id) or "").endswith("Written a moment before closing.")


def test_autosave_flushes_when_the_user_switches_tab(qtbot, notes_window):
    window, tab, notes, note = notes_window
    _type(tab, " Written before looking at the chat.")
    window.select_tab("chat")
    wait_idle(qtbot, window.runner)
    assert (_autosaved(notes, note.id) or "").endswith("Written before looking at the chat.")
