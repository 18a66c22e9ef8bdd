"""Idle lock: after ``idle_lock_minutes`` without input the window is covered and the password asked again.

Nothing is closed or discarded: the tabs stay as they were under an opaque
cover, so unsaved work is there after unlocking. Open dialogs (an addendum being
written, a Sign question, a transcript editor) get a cover of their own with a
password box: they show patient data too, and a modal one takes all input, so
the main window's cover alone could neither hide them nor be typed into. While locked the session
refuses new actions (``UserSession.lock``); only the signed-in person's password unlocks.

The database work runs in the ``io`` lane, never on the GUI thread: the ``session.locked`` audit
(the cover is up at once; the event follows), and on unlock the password check (argon2, about a
second on a busy machine, and a write: the login's audit event and counters) with the
``session.unlocked`` event. The cover stays up until the check has said yes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from medstation.access.roles import Actor, UserSession
from medstation.access.users import AccountStore
from medstation.ui.errors import report_failure
from medstation.ui.runner import JobRunner, Lane

_INPUT_EVENTS = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
                 QEvent.Type.TouchBegin}


def unlock_job(ctx, store: AccountStore, session: UserSession, name: str, password: str) -> Actor:
    """Job (io lane): check ``name``'s password, unlock ``session`` and audit it; raises LoginFailed when wrong."""
    proven = store.authenticate(name, password, via="unlock")
    session.unlock(proven)
    store.db.audit("session.unlocked", actor=proven)
    return proven


class LockCover(QWidget):
    """The opaque cover over the main window with a password box."""

    sig_unlocked = Signal()

    def __init__(self, window: QWidget, store: AccountStore, session: UserSession, runner: JobRunner) -> None:
        super().__init__(window)
        self.store, self.session, self.runner = store, session, runner
        self._checking = False
        self.setObjectName("lock_cover")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # paint the opaque cover: hide patient data
        self.setStyleSheet("#lock_cover { background: #1f2933; } QLabel { color: #e4e7eb; }")
        box = QFrame(self)
        box.setStyleSheet("QFrame { background: #323f4b; border-radius: 8px; }")
        box.setFixedWidth(460)
        box.setMinimumHeight(230)
        self.title = QLabel("<h2>MedStation is locked</h2>")
        self.who = QLabel("")
        self.who.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("unlock_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.returnPressed.connect(self.try_unlock)
        self.button = QPushButton("Unlock")
        self.button.clicked.connect(self.try_unlock)
        self.error = QLabel("")
        self.error.setObjectName("unlock_error")
        self.error.setStyleSheet("color: #ff8a80;")
        self.error.setWordWrap(True)
        inner = QVBoxLayout(box)
        for widget in (self.title, self.who, self.password, self.button, self.error):
            inner.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.hide()
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if obj is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parent().rect())
        return False

    def show_locked(self) -> None:
        actor = self.session.actor
        self.who.setText(f"Signed in as <b>{actor.name}</b> ({actor.role.value}). Your open work is kept; "
                         "enter your password to continue." if actor else "Enter your password to continue.")
        self.error.clear()
        self.password.clear()
        self.setGeometry(self.parent().rect())
        self.show()
        self.raise_()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def try_unlock(self):
        """Check the password in the io lane (the cover stays up meanwhile); returns the job's handle."""
        actor = self.session.actor
        if actor is None or self._checking:
            return None
        self._checking = True
        self.button.setEnabled(False)
        self.error.setText("Checking…")
        handle = self.runner.submit(Lane.IO, unlock_job, self.store, self.session, actor.name, self.password.text(),
                                    name="unlock", queue=True)
        handle.sig_done.connect(self._on_unlocked)
        handle.sig_failed.connect(self._on_refused)
        handle.sig_finished.connect(self._on_check_over)
        return handle

    def _on_unlocked(self, _actor) -> None:
        self.error.clear()
        self.hide()
        self.sig_unlocked.emit()

    def _on_refused(self, message: str, details: str, exc=None) -> None:
        self.password.clear()
        report_failure(self, "", message, details, exc, self.error)  # wrong password: a line; a bug: a dialog

    def _on_check_over(self) -> None:
        self._checking = False
        self.button.setEnabled(True)


class IdleLock(QObject):
    """Watches application input; locks ``window`` after ``minutes`` idle (0 disables)."""

    sig_locked = Signal()

    def __init__(self, window: QWidget, store: AccountStore, session: UserSession, minutes: float, *,
                 runner: JobRunner) -> None:
        super().__init__(window)
        self.session, self.runner = session, runner
        self.cover = LockCover(window, store, session, runner)
        self.cover.sig_unlocked.connect(self._unlocked)
        self.dialog_covers: list[LockCover] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock_now)
        self.interval_ms = int(minutes * 60_000)
        QApplication.instance().installEventFilter(self)
        self._restart()

    def _restart(self) -> None:
        if self.interval_ms > 0 and not self.session.locked:
            self.timer.start(self.interval_ms)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if event.type() in _INPUT_EVENTS and not self.session.locked and self.timer.isActive():
            self.timer.start(self.interval_ms)
        return False

    def lock_now(self) -> None:
        if self.session.actor is None or self.session.locked:
            return
        self.session.lock()
        db, actor = self.cover.store.db, self.session.actor
        self.runner.submit(Lane.IO, lambda ctx: db.audit("session.locked", actor=actor, reason="idle"),
                           name="lock audit", queue=True)  # a failure goes to ui/errors (the runner's default)
        self.cover.show_locked()
        self._cover_dialogs()
        self.sig_locked.emit()

    def _cover_dialogs(self) -> None:
        window = self.cover.parent()
        for widget in QApplication.topLevelWidgets():
            if widget is window or not widget.isVisible() or isinstance(widget, LockCover):
                continue
            cover = LockCover(widget, self.cover.store, self.session, self.runner)
            cover.sig_unlocked.connect(self._unlocked)
            cover.show_locked()
            self.dialog_covers.append(cover)

    def _unlocked(self) -> None:
        """Unlocked from any cover: take every cover away, work as it was."""
        self.cover.hide()
        for cover in self.dialog_covers:
            cover.hide()
            cover.deleteLater()
        self.dialog_covers = []
        self._restart()
