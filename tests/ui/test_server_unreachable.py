"""Clinic mode (issue 25.3): a workstation that cannot reach the database server says so plainly, in a dialog that
names the server and what to do, at start and when the connection drops mid-run; it never opens a local store.

``test_start_with_a_dead_server_shows_one_plain_dialog_and_no_local_store`` and
``test_a_connection_dropped_mid_run_shows_the_same_plain_message`` fail on cd183f4 (the window raised the error
to the command line, which only printed it to stderr; a dropped connection was a "bug" dialog with SQLAlchemy's text).
"""

from __future__ import annotations

import socket

import pytest
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget
from sqlalchemy.engine import make_url

from medstation.ui.errors import SERVER_UNREACHABLE_TITLE, failure_slot
from medstation.ui.runner import JobRunner
from tests.tcp_proxy import TcpProxy


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def modal_boxes(monkeypatch):
    """Every modal QMessageBox.exec() is recorded (title, text) and answered OK at once."""
    shown = []

    def exec_(box):
        shown.append((box.windowTitle(), box.text(), box.detailedText()))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return shown


def test_start_with_a_dead_server_shows_one_plain_dialog_and_no_local_store(qtbot, monkeypatch, settings,
                                                                            modal_boxes, capsys):
    from medstation.config import Settings
    from medstation.ui.launch import run_gui

    port = _dead_port()
    monkeypatch.setenv("MEDSTATION_DATABASE_URL", f"postgresql+psycopg://medstation_app:s3cret@127.0.0.1:{port}/clinic")
    monkeypatch.setenv("MEDSTATION_DB_ENCRYPTION", "passphrase")  # a local store would ask; the clinic one must not
    assert run_gui(settings=Settings(), quit_after=0.1) == 2
    ((title, text, details),) = modal_boxes
    assert title == SERVER_UNREACHABLE_TITLE
    assert f"Cannot reach the clinic database server 127.0.0.1:{port} (database clinic)" in text
    assert "does not fall back to a local store" in text and "ask the clinic admin" in text
    assert "s3cret" not in text + details and "Traceback" not in text + details
    assert not settings.db_path.exists() and not list(settings.home.glob("*.db*"))  # no silent local store
    assert "Cannot reach the clinic database server" in capsys.readouterr().err  # and the terminal is told too


def test_a_connection_dropped_mid_run_shows_the_same_plain_message(qtbot, pg_url, settings):
    from medstation.store.database import Database
    from medstation.training import runs

    url = make_url(pg_url)
    proxy = TcpProxy(url.host, url.port)  # the network between this workstation and the server
    db = Database(url.set(port=proxy.port).render_as_string(hide_password=False), anchor_root=settings.home)
    parent, status = QWidget(), QLabel()
    qtbot.addWidget(parent)
    parent.show()
    runner = JobRunner()
    try:
        ok = runner.submit("io", lambda ctx: runs.list_runs(db))
        with qtbot.waitSignal(ok.sig_done, timeout=10000):
            pass
        proxy.cut()
        for _ in range(2):  # a second failure (the tab's next poll) opens no second dialog
            handle = runner.submit("io", lambda ctx: runs.list_runs(db))
            handle.sig_failed.connect(failure_slot(parent, "Admin", status))
            with qtbot.waitSignal(handle.sig_finished, timeout=20000):
                pass
        boxes = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
        assert len(boxes) == 1 and boxes[0].windowTitle() == SERVER_UNREACHABLE_TITLE
        text = boxes[0].text()
        head = f"Cannot reach the clinic database server 127.0.0.1:{proxy.port} (database {url.database}): "
        assert text.startswith(head) and status.text().startswith(head)  # the dialog and the tab's status line
        assert "does not fall back to a local store" in text
        assert "sqlalche.me" not in text and (url.password or "") not in text and boxes[0].detailedText() == ""
    finally:
        runner.shutdown()
        db.close()
