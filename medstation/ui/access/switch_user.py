"""Sign out and switch user: back to a sign-in form over the window.

Open work is handled as the idle lock handles it (:mod:`medstation.ui.access.idle_lock`): nothing
is closed or discarded; an opaque cover hides the tabs until someone signs in. Signing out
forgets the person at once (``UserSession.sign_out``: nothing new acts as them) and appends
``user.logout`` in the ``io`` lane; the new person's password is checked in the ``io`` lane too
(argon2 and the login audit are database work). The window then re-tailors its tabs to the new
role (``on_signed_in``). Drafts the previous person left unsaved stay in the Viewer for
whoever signs in next with Viewer access, so sign-out names them first and asks.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QMessageBox, QPushButton, QVBoxLayout, QWidget

from medstation.access.account_admin import audit_sign_out
from medstation.access.roles import Actor, UserSession
from medstation.access.users import AccountStore


class SignInCover(QWidget):
    """An opaque cover with a name/password form; ``sig_submit(name, password)`` when the person signs in."""

    sig_submit = Signal(str, str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("sign_in_cover")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # opaque: patient data stays hidden
        self.setStyleSheet("#sign_in_cover { background: #1f2933; } QLabel { color: #e4e7eb; }")
        box = QFrame(self)
        box.setStyleSheet("QFrame { background: #323f4b; border-radius: 8px; }")
        box.setFixedWidth(460)
        self.title = QLabel("<h2>Signed out</h2>")
        self.who = QLabel("")
        self.who.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setObjectName("switch_name")
        self.name.setPlaceholderText("User name")
        self.password = QLineEdit()
        self.password.setObjectName("switch_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.button = QPushButton("Sign in")
        self.error = QLabel("")
        self.error.setObjectName("switch_error")
        self.error.setStyleSheet("color: #ff8a80;")
        self.error.setWordWrap(True)
        inner = QVBoxLayout(box)
        for widget in (self.title, self.who, self.name, self.password, self.button, self.error):
            inner.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.password.returnPressed.connect(self._submit)
        self.name.returnPressed.connect(lambda: self.password.setFocus(Qt.FocusReason.OtherFocusReason))
        self.button.clicked.connect(self._submit)
        self.hide()
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if obj is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parent().rect())
        return False

    def show_signed_out(self, previous: str, kept: list[str]) -> None:
        work = (f" Open work is kept ({len(kept)} item(s) unsaved)." if kept else " Open work is kept.")
        self.who.setText((f"{previous} signed out." if previous else "Nobody is signed in.") + work
                         + " Sign in to continue.")
        self.error.clear()
        self.name.clear()
        self.password.clear()
        self.button.setEnabled(True)
        self.setGeometry(self.parent().rect())
        self.show()
        self.raise_()
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def _submit(self) -> None:
        if not self.name.text().strip():
            self.error.setText("Enter your user name.")
            return
        self.button.setEnabled(False)
        self.error.setText("Checking…")
        self.sig_submit.emit(self.name.text().strip(), self.password.text())

    def refuse(self, message: str) -> None:
        self.error.setText(message)
        self.password.clear()
        self.button.setEnabled(True)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)


class SessionSwitcher(QObject):
    """Sign-out and sign-in for ``window``; ``on_signed_in(actor)`` re-tailors the window."""

    sig_signed_in = Signal(object)  # Actor
    sig_signed_out = Signal(str)  # the name of who left

    def __init__(self, window: QWidget, store: AccountStore, session: UserSession, runner, *,
                 unsaved_work: Callable[[], list[str]], on_signed_in: Callable[[Actor], None]) -> None:
        super().__init__(window)
        self.window, self.store, self.session, self.runner = window, store, session, runner
        self.unsaved_work = unsaved_work
        self.on_signed_in = on_signed_in
        self.cover = SignInCover(window)
        self.cover.sig_submit.connect(self._on_cover_submit)

    def available(self) -> str:
        """'' when signing out makes sense, else why not (single-user mode has no one to sign in as)."""
        if not self.store.has_accounts():
            return "Single-user mode: create an admin account first (status bar), then users can sign in."
        return ""

    def sign_out(self, *, ask: bool = True, reason: str = "sign out") -> bool:
        """Cover the window and forget the signed-in person; False when they chose to stay or nobody was in."""
        actor = self.session.actor
        if actor is None:
            return False
        kept = self.unsaved_work()
        if kept and ask:
            shown = "\n".join(f"• {item}" for item in kept[:8])
            answer = QMessageBox.question(
                self.window, "Sign out?",
                f"Unsaved work stays open under the sign-in screen (as with the idle lock):\n{shown}\n\n"
                "Whoever signs in next with Viewer access sees it. Accept what you want to keep first. Sign out?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.session.sign_out()  # at once: nothing new may act as them from here on
        handle = self.runner.submit("io", lambda ctx: audit_sign_out(self.store.db, actor, reason=reason), name="sign out audit",
                                    queue=True)
        handle.sig_failed.connect(lambda message, *_: self.cover.refuse(f"Sign-out audit failed: {message}"))
        self.cover.show_signed_out(actor.name, kept)
        self.sig_signed_out.emit(actor.name)
        return True

    def _on_cover_submit(self, name: str, password: str):
        handle = self.runner.submit("io", lambda ctx: self.store.authenticate(name, password, via="switch user"),
                                    name="sign in", queue=True)
        handle.sig_done.connect(self._signed_in)
        handle.sig_failed.connect(lambda message, *_: self.cover.refuse(message))
        return handle

    def _signed_in(self, actor: Actor) -> None:
        self.session.sign_in(actor)
        self.cover.hide()
        self.on_signed_in(actor)
        self.sig_signed_in.emit(actor)
