"""Database passphrase at start: unlock an encrypted store, or choose the passphrase for a new one.

The dialog only collects the passphrase; :mod:`medstation.access.encryption` derives
and checks the key (a wrong passphrase fails the key header's AES-GCM tag and the
dialog says so and stays open). Once unlocked, the KEK goes into this process's
``MEDSTATION_DB_KEY`` so the child workers the window starts (training) inherit it
instead of asking again.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget)

from medstation.access import encryption
from medstation.errors import UserFacingError


class PassphraseDialog(QDialog):
    """``create=False``: unlock the store at ``db_path``; ``create=True``: choose (twice) a new passphrase.

    ``kek`` is set when accepted.
    """

    def __init__(self, db_path: Path, *, create: bool, note: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path, self.create = Path(db_path), create
        self.kek: bytes | None = None
        self.setWindowTitle("Choose the database passphrase" if create else "Unlock the database")
        self.setMinimumWidth(460)
        intro = ("This new data folder will be encrypted (MEDSTATION_DB_ENCRYPTION). Choose a passphrase of at "
                 f"least {encryption.MIN_PASSPHRASE} characters: without it nobody, not even an admin, can open "
                 "the data again." if create else
                 "The database of this data folder is encrypted. Enter its passphrase.")
        self.intro = QLabel((note + "\n\n" if note else "") + intro)
        self.intro.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        if create:
            form.addRow("Passphrase again", self.confirm)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Encrypt" if create else "Unlock")
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _submit(self) -> None:
        try:
            self.kek = self._act()
        except UserFacingError as exc:
            self.error.setText(str(exc))
            self.passphrase.clear()
            self.confirm.clear()
            self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.accept()

    def _act(self) -> bytes:
        text = self.passphrase.text()
        if self.create:
            if text != self.confirm.text():
                raise UserFacingError("The two passphrases differ.")
            _header, kek = encryption.create_key_header(self.db_path, passphrase=text)
            return kek
        header = encryption.read_header(self.db_path)
        kek = encryption.kek_for(header, passphrase=text, env={})
        encryption.unwrap_db_key(header, kek)  # raises WrongKey
        return kek


def unlock_store(settings, parent: QWidget | None = None) -> bool:
    """Make sure this process can open ``settings.db_path``; False when the person cancelled.

    Asks only when needed: a plaintext store, or a key already available from the
    environment or the keyring, opens without a dialog.
    """
    db_path = settings.db_path
    header = encryption.read_header(db_path)
    note = ""
    if header is None:
        if db_path.exists() or settings.db_encryption == "off" or os.environ.get(encryption.ENV_PASSPHRASE):
            return True
        if settings.db_encryption == "keyring":
            reason = encryption.keyring_unavailable_reason()
            if not reason:
                return True  # the Database creates the key in the keyring
            note = f"No OS keyring here ({reason}); the key will come from a passphrase instead."
        settings.ensure_dirs()
        dialog = PassphraseDialog(db_path, create=True, note=note, parent=parent)
    else:
        try:
            encryption.unwrap_db_key(header, encryption.kek_for(header))
            return True
        except encryption.WrongKey:
            note = "The passphrase or key in the environment is wrong."
        except encryption.KeyRequired:
            pass
        dialog = PassphraseDialog(db_path, create=False, note=note, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.kek is None:
        return False
    os.environ[encryption.ENV_KEY] = dialog.kek.hex()  # inherited by the child workers (see module docstring)
    return True
