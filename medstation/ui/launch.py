"""Start the Qt application: build the services, the runner and the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from medstation.app import build_services
from medstation.config import Settings

log = logging.getLogger(__name__)


def run_gui(
    *,
    settings: Settings | None = None,
    open_path: str | None = None,
    screenshot: str | None = None,
    screenshot_delay: float = 6.0,
    tab: str = "viewer",
    quit_after: float = 0.0,
) -> int:
    """Start the Qt application; returns the process exit code."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MedStation")
    services = build_services(settings)
    runner = JobRunner()
    window = MainWindow(services, runner)
    window.resize(1500, 950)
    window.show()
    window.select_tab(tab)
    window.start(open_path=Path(open_path) if open_path else None)

    if screenshot:
        def _shoot() -> None:
            window.grab().save(screenshot)
            log.info("screenshot saved to %s", screenshot)
            app.quit()

        QTimer.singleShot(int(screenshot_delay * 1000), _shoot)
    elif quit_after > 0:
        QTimer.singleShot(int(quit_after * 1000), app.quit)
    try:
        return app.exec()
    finally:
        runner.shutdown()
        services.close()
