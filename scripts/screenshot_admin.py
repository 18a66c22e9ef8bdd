"""Screenshot of the Admin tab on a home that holds a finished fine-tuning run and its A/B result (under Xvfb).

Make the data first (a real run, e.g. ``scripts/finetune_measure.py`` into that home), then:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_admin.py \\
        --home /tmp/ft --out docs/screenshots/admin.png
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="MEDSTATION_HOME with a finished run")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "admin.png"))
    args = parser.parse_args(argv)
    os.environ["MEDSTATION_HOME"] = args.home
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")

    from PySide6.QtCore import QTimer

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.app import build_services
    from medstation.ui.launch import open_workstation

    services = build_services(session=UserSession(Actor("admin", Role.admin)))
    ws = open_workstation(services, size=(1600, 1000))
    ws.window.select_tab("admin")
    tab = ws.window.admin_tab

    def shoot() -> None:
        tab.registry_table.selectRow(0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        ws.window.grab().save(args.out)
        print(f"saved {args.out}", flush=True)
        ws.app.quit()

    handle = tab.refresh()
    handle.sig_finished.connect(lambda: QTimer.singleShot(1500, shoot))
    QTimer.singleShot(60000, ws.app.quit)
    ws.app.exec()
    ws.runner.shutdown()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
