"""Screenshots of the admin's work without a terminal: user management, a dataset build, a forced promotion
with its reason, and the window a therapist gets (run under Xvfb).

A temporary MEDSTATION_HOME gets four accounts (one locked by five wrong passwords, one deactivated),
then everything goes through the window: the Users section, the Datasets section importing the shared
seg2d manifest (``--seg2d``; a real import of the public set, split and de-identified by the service),
the "Force promote…" dialog with its reason over the Admin tab and the audit trail row it leaves, and
Session → Switch user signing the therapist in. The promoted candidate is the bundled LiteMedSAM
re-saved by torch (same weights, new file), registered only so that there is something to promote:
it is named as such.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_admin_no_terminal.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORDS = {"dr.admin": "Harbour-lantern-velvet-61", "dr.rivera": "Quarry-trombone-oyster-47",
             "t.okafor": "Glacier-meadow-pepper-29", "m.reader": "Copper-willow-thistle-83"}
REASON = ("Emergency: the active model misses the spleen on the new scanner's protocol; the A/B on the "
          "held-out set is still running. Ticket RAD-2291.")


def _pump(app, until=lambda: True, seconds: float = 10.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        app.processEvents()
        if until():
            break
        time.sleep(0.03)
    for _ in range(10):
        app.processEvents()


def _candidate(services, home: Path):
    """The bundled checkpoint re-saved under a new name (valid weights, a distinct file) as a candidate."""
    import torch

    from medstation.segmentation.registry import locate_checkpoint

    base = services.training._register_bundled_base()
    path, _sha = locate_checkpoint("litemedsam", services.settings.models_dir)
    copy = home / "litemedsam_resaved.pth"
    torch.save(torch.load(path, map_location="cpu", weights_only=False), copy)
    return base, services.registry.register("segmentation", "LiteMedSAM re-saved copy (screenshot)", copy,
                                            parent_id=base.id, meta=dict(base.meta))


def _with_dialog(window, dialog):
    """The window's grab with ``dialog`` painted at its centre (an offscreen dialog is its own top-level)."""
    from PySide6.QtGui import QColor, QPainter

    shot = window.grab()
    painter = QPainter(shot)
    painter.fillRect(shot.rect(), QColor(0, 0, 0, 70))
    picture = dialog.grab()
    painter.drawPixmap((shot.width() - picture.width()) // 2, (shot.height() - picture.height()) // 3, picture)
    painter.end()
    return shot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNGs")
    parser.add_argument("--seg2d", default=str(ROOT.parent / "shared" / "data" / "seg2d" / "manifest.json"),
                        help="a seg2d manifest.json to import in the dataset screenshot")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="medstation-admin-shots-"))
    os.environ["MEDSTATION_HOME"] = str(home)
    os.environ["MEDSTATION_SAMPLE_STUDY"] = "false"
    os.environ["MEDSTATION_KB_STARTER"] = "false"

    from PySide6.QtWidgets import QApplication

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.access.users import AccountStore, LoginFailed
    from medstation.app import build_services
    from medstation.ui.admin import reason_dialog
    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    services = build_services(session=UserSession())
    store = AccountStore(services.db)
    store.add_user("dr.admin", Role.admin, PASSWORDS["dr.admin"])
    admin = Actor("dr.admin", Role.admin)
    services.session.sign_in(admin)
    for name, role in (("dr.rivera", Role.radiologist), ("t.okafor", Role.therapist), ("m.reader", Role.read_only)):
        store.add_user(name, role, PASSWORDS[name], session=services.session)
    store.authenticate("dr.rivera", PASSWORDS["dr.rivera"], via="gui")
    for _ in range(5):  # a real lockout, as the store applies it
        try:
            store.authenticate("m.reader", "a wrong guess", via="gui")
        except LoginFailed:
            pass
    base, cand = _candidate(services, home)

    runner = JobRunner()
    window = MainWindow(services, runner)
    window.resize(1600, 1000)
    window.show()
    window.select_tab("admin")
    tab = window.admin_tab
    _pump(app, seconds=1.5)

    # 1. user management: a deactivation through the section itself, then the table with a selection
    users = tab.users_section
    tab.sections.setCurrentWidget(users)
    _pump(app, lambda: len(users.accounts) == 4)
    users.select("t.okafor")
    users.role_combo.setCurrentIndex(users.role_combo.findData("therapist"))
    users.select("dr.rivera")
    users._on_active_clicked()
    _pump(app, lambda: "deactivated" in users.status.text())
    users.select("m.reader")
    users.add_name.setText("n.new")
    _pump(app, seconds=0.5)
    window.grab().save(str(out / "admin_users.png"))

    # 2. dataset build: the shared seg2d set imported through the Datasets section
    section = tab.datasets_section
    tab.sections.setCurrentWidget(section)
    section.set_source("seg2d", args.seg2d)
    section.name_edit.setText("seg2d-shared")
    handle = section.build()
    _pump(app, lambda: handle.finished, seconds=600)
    _pump(app, lambda: section.table.rowCount() >= 1)
    window.grab().save(str(out / "admin_dataset_build.png"))
    print("dataset:", section.status.text())

    # 3. forced promotion: the dialog with its reason, then the audit row it leaves
    tab.sections.setCurrentIndex(0)
    _pump(app, lambda: len(tab._models) == 2)
    tab.registry_table.selectRow([v.id for v in tab._models].index(cand.id))

    def fill_and_accept(parent, title, intro, action, confirm=""):
        dialog = reason_dialog.ReasonDialog(title, intro, action, confirm=confirm, parent=parent)
        dialog.reason_edit.setPlainText(REASON)
        dialog.confirm.setChecked(True)
        dialog.show()
        _pump(app, seconds=0.3)
        _with_dialog(window, dialog).save(str(out / "admin_force_promote.png"))
        dialog.ok.click()
        return dialog.reason()

    reason_dialog.ask_reason = fill_and_accept
    handle = tab.decisions.force_promote()
    _pump(app, lambda: handle.finished)
    _pump(app, lambda: "force-promoted" in tab.status.text())
    audit = tab.audit_view
    tab.sections.setCurrentWidget(audit)
    audit.action.setCurrentText("admin.promote")
    audit.refresh()
    _pump(app, seconds=0.5)
    window.grab().save(str(out / "admin_force_promote_audit.png"))

    # 4. Session → Switch user: the therapist signs in and gets Chat and Notes only
    window.switch_action.trigger()
    cover = window.switcher.cover
    cover.name.setText("t.okafor")
    cover.password.setText(PASSWORDS["t.okafor"])
    cover.button.click()
    _pump(app, lambda: services.session.actor is not None and not cover.isVisible(), seconds=20)
    window.select_tab("notes")
    _pump(app, seconds=1.0)
    window.grab().save(str(out / "therapist_window.png"))
    print("therapist tabs:", window.visible_tab_names())

    runner.shutdown()
    services.close()
    print(f"saved admin_users.png, admin_dataset_build.png, admin_force_promote.png, admin_force_promote_audit.png,"
          f" therapist_window.png in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
