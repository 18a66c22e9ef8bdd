"""User management in the Admin tab: add, change role, unlock, reset password, deactivate.

The widget gathers input and shows accounts; :class:`~medstation.access.account_admin.AccountAdmin`
checks ``manage_users``, refuses what would lock the clinic out (the last admin) and audits
every change. Every read and write (argon2 hashing included, ~0.1 s) runs in the ``io`` lane;
the GUI thread only fills the table.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medstation.access.account_admin import AccountAdmin
from medstation.access.roles import Role
from medstation.ui.errors import report_failure
from medstation.ui.viewer.status_line import StatusLine

COLUMNS = ("User", "Role", "State", "Failed logins", "Last sign-in (UTC)", "Created by")


def _state(info, now) -> str:
    if not info.active:
        return "deactivated"
    if info.locked_until is not None and info.locked_until > now:
        return f"locked until {info.locked_until:%H:%M}"
    return "active"


def _role_combo() -> QComboBox:
    combo = QComboBox()
    for role in Role:
        combo.addItem(role.value.replace("_", "-"), role.value)
    return combo


def _password_edit(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class UsersSection(QWidget):
    """Accounts table and the actions on the selected account; ``refresh()`` reloads (io lane)."""

    sig_changed = Signal()  # an account changed (after its audit event is written)

    def __init__(self, admin: AccountAdmin, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.admin = admin
        self.runner = runner
        self.accounts: list = []
        self._first_hint_shown = False  # the "first account is an admin" hint is given once, not on every refresh

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("users_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)

        selected = QGroupBox("Selected account")
        self.selected_label = QLabel("Select an account in the table.")
        self.role_combo = _role_combo()
        self.role_button = QPushButton("Change role")
        self.unlock_button = QPushButton("Unlock")
        self.active_button = QPushButton("Deactivate")
        self.new_password = _password_edit("new password")
        self.new_password_again = _password_edit("again")
        self.reset_button = QPushButton("Reset password")
        row1 = QHBoxLayout()
        for w in (self.selected_label, QLabel("Role"), self.role_combo, self.role_button, self.unlock_button,
                  self.active_button):
            row1.addWidget(w)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        for w in (QLabel("New password"), self.new_password, self.new_password_again, self.reset_button):
            row2.addWidget(w)
        sv = QVBoxLayout(selected)
        sv.addLayout(row1)
        sv.addLayout(row2)

        add = QGroupBox("Add a user")
        self.add_name = QLineEdit()
        self.add_name.setObjectName("add_name")
        self.add_name.setPlaceholderText("user name (letters, digits, . _ -)")
        self.add_role = _role_combo()
        self.add_password = _password_edit("password")
        self.add_password_again = _password_edit("password again")
        self.add_button = QPushButton("Add user")
        form = QFormLayout(add)
        form.addRow("Name", self.add_name)
        form.addRow("Role", self.add_role)
        form.addRow("Password", self.add_password)
        form.addRow("Password again", self.add_password_again)
        form.addRow("", self.add_button)

        self.status = StatusLine(max_lines=2)
        self.status.setObjectName("users_status")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Accounts</b> — every change is checked and audited by the account service"))
        layout.addWidget(self.table, 1)
        layout.addWidget(selected)
        layout.addWidget(add)
        layout.addWidget(self.status)

        self.add_button.clicked.connect(self._on_add_clicked)
        self.role_button.clicked.connect(self._on_role_clicked)
        self.unlock_button.clicked.connect(lambda: self._act_on_selected("unlock", "unlocked"))
        self.active_button.clicked.connect(self._on_active_clicked)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self._on_selection()

    # -- reading --------------------------------------------------------------------------------
    def refresh(self):
        handle = self.runner.submit("io", lambda ctx: self.admin.accounts(), name="accounts", queue=True)
        handle.sig_done.connect(self._show_accounts)
        handle.sig_failed.connect(self._on_failed)
        return handle

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh()

    def _show_accounts(self, accounts) -> None:
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc)
        keep = self.selected_name()
        self.accounts = list(accounts)
        self.table.setRowCount(len(self.accounts))
        for i, info in enumerate(self.accounts):
            values = (info.name, info.role.value.replace("_", "-"), _state(info, now), str(info.failed_attempts),
                      f"{info.last_login_at:%Y-%m-%d %H:%M}" if info.last_login_at else "never", info.created_by)
            for j, value in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(value))
        if not self.accounts and not self._first_hint_shown:
            # single-user mode: the only account that can be added now is the admin that ends it
            self._first_hint_shown = True
            self.add_role.setCurrentIndex(self.add_role.findData(Role.admin.value))
            self.status.setText("No accounts yet: the first account must be an admin. Once it exists, everyone "
                                "signs in, and the admin adds the other accounts here.")
        names = [a.name for a in self.accounts]
        if keep in names:
            self.table.selectRow(names.index(keep))
        self._on_selection()

    def selected_name(self) -> str:
        row = self.table.currentRow()
        return self.accounts[row].name if 0 <= row < len(self.accounts) else ""

    def select(self, name: str) -> None:
        names = [a.name for a in self.accounts]
        if name in names:
            self.table.selectRow(names.index(name))

    def _on_selection(self) -> None:
        row = self.table.currentRow()
        info = self.accounts[row] if 0 <= row < len(self.accounts) else None
        for w in (self.role_button, self.unlock_button, self.active_button, self.reset_button):
            w.setEnabled(info is not None)
        if info is None:
            self.selected_label.setText("Select an account in the table.")
            return
        self.selected_label.setText(f"<b>{info.name}</b>")
        self.role_combo.setCurrentIndex(self.role_combo.findData(info.role.value))
        self.active_button.setText("Deactivate" if info.active else "Reactivate")

    # -- acting ---------------------------------------------------------------------------------
    def _run(self, fn, done: str):
        """Run ``fn()`` (an AccountAdmin call) in the io lane; ``done`` is shown when it succeeds."""
        self.status.setText("Working…")
        handle = self.runner.submit("io", lambda ctx: fn(), name="account change", queue=True)
        handle.sig_done.connect(lambda _info: self._on_changed(done))
        handle.sig_failed.connect(self._on_failed)
        return handle

    def _on_changed(self, done: str) -> None:
        self.status.setText(done)
        self.sig_changed.emit()
        self.refresh()

    def _on_add_clicked(self):
        name, password = self.add_name.text().strip(), self.add_password.text()
        if password != self.add_password_again.text():
            self.status.setText("The two passwords differ.")
            return None
        role = self.add_role.currentData()
        self.add_password.clear()
        self.add_password_again.clear()
        handle = self._run(lambda: self.admin.add(name, role, password), f"Added {name} ({role}).")
        handle.sig_done.connect(lambda _i: self.add_name.clear())
        return handle

    def _on_role_clicked(self):
        name, role = self.selected_name(), self.role_combo.currentData()
        if not name:
            return None
        return self._run(lambda: self.admin.change_role(name, role), f"{name} is now {role}.")

    def _on_active_clicked(self):
        name = self.selected_name()
        if not name:
            return None
        info = self.accounts[self.table.currentRow()]
        active = not info.active
        return self._run(lambda: self.admin.set_active(name, active),
                         f"{name} {'reactivated' if active else 'deactivated: can no longer sign in'}.")

    def _act_on_selected(self, method: str, verb: str):
        name = self.selected_name()
        if not name:
            return None
        return self._run(lambda: getattr(self.admin, method)(name), f"{name} {verb}.")

    def _on_reset_clicked(self):
        name, password = self.selected_name(), self.new_password.text()
        if not name:
            return None
        if password != self.new_password_again.text():
            self.status.setText("The two passwords differ.")
            return None
        self.new_password.clear()
        self.new_password_again.clear()
        return self._run(lambda: self.admin.reset_password(name, password),
                         f"New password set for {name} (any lockout cleared).")

    def _on_failed(self, message: str, details: str, exc=None) -> None:
        report_failure(self, "", message, details, exc, self.status)  # a refusal is a sentence, a bug a dialog
