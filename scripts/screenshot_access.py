"""Screenshots of sign-in, the idle lock and the audit trail (run under Xvfb).

Builds a temporary MEDSTATION_HOME with an admin, a radiologist and a therapist,
signs them in through the account store (one wrong password), writes two example events
through db.audit (an accepted segmentation, a signed note: labelled examples, not real work), then
goes through the real launch: the sign-in dialog (filled in by a timer, first
with a wrong password), the main window, the idle lock, and the Admin tab's audit trail section.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_access.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _sign_in(dialog, name: str, password: str) -> None:
    dialog.name.setText(name)
    dialog.password.setText(password)
    dialog._submit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="medstation-shots-")
    os.environ["MEDSTATION_SAMPLE_STUDY"] = "false"

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.access.users import AccountStore, LoginFailed
    from medstation.app import build_services
    from medstation.ui.launch import open_workstation

    app = QApplication.instance() or QApplication(sys.argv[:1])
    services = build_services(session=UserSession())
    store = AccountStore(services.db)
    store.add_user("dr.admin", Role.admin, "admin password")
    admin = UserSession(Actor("dr.admin", Role.admin))
    store.add_user("dr.rivera", Role.radiologist, "radiology pw", session=admin)
    store.add_user("t.okafor", Role.therapist, "therapy pw!", session=admin)
    store.authenticate("dr.rivera", "radiology pw", via="gui")
    try:
        store.authenticate("t.okafor", "wrong guess", via="gui")
    except LoginFailed:
        pass
    store.authenticate("t.okafor", "therapy pw!", via="gui")
    services.db.audit("segmentation.accepted", actor=Actor("dr.rivera", Role.radiologist), entity="segmentation",
                      entity_id=12, series_uid="1.2.826.0.1.3680043.8.498.1", name="liver", voxels=48211)
    services.db.audit("note.signed", actor=Actor("t.okafor", Role.therapist), entity="note", entity_id=7)

    def drive_login() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(100, drive_login)
            return
        dialog.name.setText("dr.rivera")
        dialog.password.setText("wrong password")
        dialog._submit()  # the real check: a failed, audited attempt
        dialog.password.setText("••••••")
        dialog.grab().save(str(out / "login.png"))
        dialog.password.setText("radiology pw")
        dialog._submit()

    QTimer.singleShot(300, drive_login)
    station = open_workstation(services)
    window = station.window
    for _ in range(20):
        app.processEvents()
    window.idle_lock.lock_now()
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(out / "idle_lock.png"))
    window.idle_lock.cover.password.setText("radiology pw")
    window.idle_lock.cover.try_unlock()

    station.close()
    # the admin signs in: the Admin tab's "Audit trail" section is theirs alone
    services = build_services(session=UserSession())
    QTimer.singleShot(300, lambda: _sign_in(QApplication.activeModalWidget(), "dr.admin", "admin password"))
    station = open_workstation(services)
    window = station.window
    window.select_tab("admin")
    view = window.admin_tab.audit_view
    window.admin_tab.sections.setCurrentWidget(view)
    for _ in range(20):
        app.processEvents()
    view.verify()
    for _ in range(40):
        app.processEvents()
        QTimer.singleShot(25, lambda: None)
    import time

    deadline = time.time() + 5
    while "intact" not in view.status.text() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.05)
    window.grab().save(str(out / "audit_trail.png"))
    station.close()
    print(f"saved login.png, idle_lock.png, audit_trail.png in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
