"""Start the Qt application: build the services, the runner and the main window."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.app import build_services
from medstation.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Workstation:
    """The running application: Qt app, services, job runner and the shown main window."""

    app: Any  # QApplication
    services: Any  # medstation.app.Services
    runner: Any  # JobRunner
    window: Any  # MainWindow

    def close(self, timeout_ms: int = 5000) -> None:
        """Cancel running jobs, wait up to ``timeout_ms`` for them, and close the services."""
        self.runner.shutdown(timeout_ms)
        self.services.close()

    def exec(self) -> int:
        """Run the event loop until the app quits, then close; returns the exit code."""
        try:
            return self.app.exec()
        finally:
            self.close()


def open_workstation(services=None, *, settings: Settings | None = None, size=(1500, 950)) -> Workstation:
    """Build (or take) the services, start the job runner and show the main window.

    The one way the window is assembled: ``medstation gui``, the screenshot scripts and
    the UI benchmarks all come through here.
    """
    from PySide6.QtWidgets import QApplication

    from medstation.ui.main_window import MainWindow
    from medstation.ui.runner import JobRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MedStation")
    from medstation.ui.access.gate import install_access, sign_in_at_launch

    from medstation.access.roles import UserSession

    from medstation.ui.access.unlock_dialog import unlock_store

    settings = settings or Settings()
    # an encrypted local store asks its passphrase (a clinic workstation's store is the server: nothing to unlock)
    if services is None and not settings.database_url and not unlock_store(settings):
        raise SignInCancelled("Database unlock cancelled.")
    # the window signs in itself (a dialog when accounts exist), so it starts with no one signed in
    services = services if services is not None else build_services(settings, session=UserSession())
    session = sign_in_at_launch(services)  # asks only when accounts exist
    if session is None:
        services.close()
        raise SignInCancelled("Sign-in cancelled.")
    runner = JobRunner()
    window = MainWindow(services, runner)
    window.resize(*size)
    install_access(window, services, session, runner=runner)
    window.show()
    return Workstation(app, services, runner, window)


def tell_cannot_start(exc: Exception) -> None:
    """Say in a dialog (and on stderr) why the window cannot open; a person who started MedStation from its
    icon sees no terminal. An unreachable clinic server gets its own plain dialog (which server, what to do)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from medstation.ui.errors import server_unreachable_text, show_server_unreachable

    app = QApplication.instance() or QApplication(sys.argv[:1])  # kept referenced while the dialog shows
    print(f"error: {exc}", file=sys.stderr)
    text = server_unreachable_text(exc)
    if text is not None:
        show_server_unreachable(None, text, modal=True)
        return
    log.error("MedStation cannot start: %s", exc)
    box = QMessageBox(QMessageBox.Icon.Critical, "MedStation cannot start", str(exc), QMessageBox.StandardButton.Ok)
    box.exec()
    del app


class SignInCancelled(Exception):
    """The person closed the sign-in dialog: the window is not opened."""


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

    from medstation.errors import UserFacingError

    try:
        station = open_workstation(settings=settings)
    except SignInCancelled:
        return 0
    except UserFacingError as exc:  # e.g. the clinic server is down: a dialog, never a traceback or a local store
        tell_cannot_start(exc)
        return exc.exit_code
    app, window = station.app, station.window
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
    return station.exec()
