"""Screenshot: the main window at 1280x800 after the longest messages (run under Xvfb).

Opens the sample CT, waits until every background job is done, then puts the longest status texts
the layout test uses (``tests/ui/test_layout_holds.py``) on the Viewer's lines and the segmentation
panel, and grabs the window: it stays 1280x800, Accept and Export stay on screen.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_layout.py --out docs/screenshots
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNG")
    args = parser.parse_args(argv)
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="medstation-layout-")
    os.environ["MEDSTATION_KB_STARTER"] = "false"

    from PySide6.QtWidgets import QApplication

    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner
    from tests.ui.test_layout_holds import _say_the_longest_things

    app = QApplication.instance() or QApplication(sys.argv[:1])
    services = build_services(Settings(sample_study=True))
    runner = JobRunner()
    window = MainWindow(services, runner)
    window.resize(1280, 800)
    window.show()
    window.start()
    deadline = time.time() + 180
    while time.time() < deadline and (window.viewer_tab.current_volume() is None or runner.active()):
        app.processEvents()
        time.sleep(0.03)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.03)
    _say_the_longest_things(window)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)
    out = Path(args.out) / "layout_1280x800_long_messages.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"window {window.width()}x{window.height()}; saved {out}")
    runner.shutdown()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
