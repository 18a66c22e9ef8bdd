"""The audit trail inside the Admin tab (admins only) and the database passphrase dialog."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTabWidget, QWidget

from medstation.access import encryption
from medstation.access.encryption import KdfCost, create_key_header
from medstation.access.roles import Actor, Role, UserSession

PASS = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch):
    for name in (encryption.ENV_KEY, encryption.ENV_PASSPHRASE):
        monkeypatch.setenv(name, "")  # recorded, so whatever a test (or the dialog) sets is undone after it
        monkeypatch.delenv(name)


def test_admin_tab_has_the_audit_trail_section_for_admins_only(qtbot, db):
    from medstation.ui.access.admin_section import with_audit_section
    from medstation.ui.access.audit_view import AuditTrailView

    db.audit("note.signed", actor="t.okafor", entity="note", entity_id=7)
    tab, main = QWidget(), QWidget()
    qtbot.addWidget(tab)
    shown = with_audit_section(tab, main, db, UserSession(Actor("alice", Role.admin)), None)
    assert isinstance(shown, QTabWidget)
    assert [shown.tabText(i) for i in range(shown.count())] == ["Models and training", "Audit trail"]
    assert isinstance(tab.audit_view, AuditTrailView) and shown.widget(1) is tab.audit_view
    assert any(r.action == "note.signed" for r in tab.audit_view.rows)

    other, main2 = QWidget(), QWidget()
    qtbot.addWidget(other)
    assert with_audit_section(other, main2, db, UserSession(Actor("rita", Role.radiologist)), None) is main2
    assert other.audit_view is None


def test_unlock_dialog_refuses_a_wrong_passphrase_then_unlocks(qtbot, tmp_path):
    from medstation.ui.access.unlock_dialog import PassphraseDialog

    path = tmp_path / "medstation.db"
    header, kek = create_key_header(path, passphrase=PASS, cost=KdfCost(1, 1024, 1))
    dialog = PassphraseDialog(path, create=False)
    qtbot.addWidget(dialog)
    dialog.passphrase.setText("wrong passphrase!")
    dialog._submit()
    assert "wrong" in dialog.error.text() and dialog.kek is None and dialog.passphrase.text() == ""
    dialog.passphrase.setText(PASS)
    dialog._submit()
    assert dialog.kek == kek and dialog.result() == dialog.DialogCode.Accepted


def test_new_encrypted_folder_asks_for_a_passphrase_and_children_inherit_the_key(qtbot, settings, monkeypatch):
    import os

    from medstation.access.encryption import open_database
    from medstation.ui.access import unlock_dialog

    monkeypatch.setattr(settings, "db_encryption", "passphrase")

    def choose(self):
        self.passphrase.setText("short")
        self.confirm.setText("short")
        self._submit()
        assert "at least" in self.error.text()
        self.passphrase.setText(PASS)
        self.confirm.setText(PASS)
        self._submit()
        return self.result()

    monkeypatch.setattr(unlock_dialog.PassphraseDialog, "exec", choose)
    assert unlock_dialog.unlock_store(settings)
    assert os.environ[encryption.ENV_KEY]  # what a training worker started by the window inherits
    db = open_database(settings.db_path, encrypt_new=settings.db_encryption)
    assert db.encrypted
    db.close()
    assert not encryption.is_plaintext_sqlite(settings.db_path)
    monkeypatch.delenv(encryption.ENV_KEY)
    monkeypatch.setattr(unlock_dialog.PassphraseDialog, "exec", lambda self: self.DialogCode.Rejected)
    assert unlock_dialog.unlock_store(settings) is False  # cancelled: the window does not open
