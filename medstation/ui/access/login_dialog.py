"""Sign-in and first-run dialogs. They collect a name and password; AccountStore decides."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from medstation.access.roles import Actor, Role
from medstation.access.users import AccountStore
from medstation.errors import UserFacingError


class _CredentialsDialog(QDialog):
    """Name/password form; each subclass's ``_act()`` does the work and raises UserFacingError to refuse."""

    def __init__(self, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form = QFormLayout()
        self.form.addRow("User name", self.name)
        self.form.addRow("Password", self.password)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _submit(self) -> None:
        try:
            self._act()
        except UserFacingError as exc:
            self.error.setText(str(exc))
            self.password.clear()
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.accept()



class LoginDialog(_CredentialsDialog):
    """Ask for a name and password; ``actor`` is set when accepted. Failures are audited by the store."""

    def __init__(self, store: AccountStore, parent: QWidget | None = None) -> None:
        super().__init__("Sign in to MedStation", "Sign in with your MedStation account.", parent)
        self.store = store
        self.actor: Actor | None = None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")

    def _act(self) -> None:
        self.actor = self.store.authenticate(self.name.text().strip(), self.password.text(), via="gui")


class FirstRunDialog(_CredentialsDialog):
    """Create the first account, which is always an admin."""

    def __init__(self, store: AccountStore, parent: QWidget | None = None) -> None:
        super().__init__(
            "Create the administrator",
            "This data folder has no accounts yet, so MedStation runs in single-user mode. Create the "
            "administrator account: from then on everyone signs in, and the admin adds the other users.",
            parent)
        self.store = store
        self.actor: Actor | None = None
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow("Password again", self.confirm)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create admin")

    def _act(self) -> None:
        if self.password.text() != self.confirm.text():
            raise UserFacingError("The two passwords differ.")
        info = self.store.add_user(self.name.text().strip(), Role.admin, self.password.text())
        self.actor = info.actor


class AddUserDialog(_CredentialsDialog):
    """An admin adds an account with a role (the store checks ``manage_users``)."""

    def __init__(self, store: AccountStore, session, parent: QWidget | None = None) -> None:
        super().__init__("Add a user", "New account and its role.", parent)
        self.store, self.session = store, session
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.value.replace("_", "-"), role)
        self.form.addRow("Role", self.role)

    def _act(self) -> None:
        self.store.add_user(self.name.text().strip(), self.role.currentData(), self.password.text(),
                            session=self.session)
