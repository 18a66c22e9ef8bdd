"""Launch hook: sign in when accounts exist, offer the first-run admin when none do, install the idle lock.

Rule (same as headless, see medstation.access.headless): a data folder with no
accounts runs in single-user mode as the OS user with the admin role, and the
status bar says so with a "Create admin…" button; once any account exists the
window opens only after a successful sign-in.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QPushButton

from medstation.access.headless import bind_audit_actor
from medstation.access.roles import Role, UserSession
from medstation.access.users import AccountStore
from medstation.ui.access.idle_lock import IdleLock
from medstation.ui.access.login_dialog import FirstRunDialog, LoginDialog
from medstation.ui.runner import JobRunner


def services_session(services) -> UserSession:
    """The composition root's session (``services.session``), or one kept in ``services.extra``."""
    session = getattr(services, "session", None)
    if session is None:
        session = services.extra.setdefault("session", UserSession.from_os_user(Role.admin))
    return session


def sign_in_at_launch(services, parent=None) -> UserSession | None:
    """The signed-in session, or None when the person cancelled the sign-in dialog."""
    store = AccountStore(services.db)
    session = services_session(services)
    if store.has_accounts():
        session.sign_out()
        dialog = LoginDialog(store, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.actor is None:
            return None
        session.sign_in(dialog.actor)
    elif session.actor is None:
        session.sign_in(UserSession.from_os_user(Role.admin).actor)
    return bind_audit_actor(services.db, session)


def install_access(window, services, session: UserSession, *, runner: JobRunner):
    """Idle lock (accounts exist) or the single-user banner with "Create admin…"; returns the IdleLock or None.
    ``runner``: the window's JobRunner (the lock's audits and password check run in its io lane)."""
    store = AccountStore(services.db)
    minutes = float(services.settings.idle_lock_minutes)
    _show_user(window, session)
    if store.has_accounts():
        window.idle_lock = IdleLock(window, store, session, minutes, runner=runner)
        return window.idle_lock
    button = QPushButton("Single-user mode (no accounts) — Create admin…")
    button.setObjectName("create_admin")
    button.setFlat(True)

    def create_admin() -> None:
        dialog = FirstRunDialog(store, window)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.actor is not None:
            session.sign_in(dialog.actor)
            window.statusBar().removeWidget(button)
            button.deleteLater()
            _show_user(window, session)
            window.idle_lock = IdleLock(window, store, session, minutes, runner=runner)

    button.clicked.connect(create_admin)
    window.statusBar().addWidget(button)
    window.idle_lock = None
    return None


def _show_user(window, session: UserSession) -> None:
    actor = session.actor
    base = window.windowTitle().split(" · ")[0]
    window.setWindowTitle(f"{base} · {actor.name} ({actor.role.value})" if actor else base)
