"""Main window: four tabs and a status bar showing what runs in the background."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget

from medstation.app import Services
from medstation.ui.runner import JobHandle, JobRunner

TAB_NAMES = ("viewer", "chat", "notes", "admin")


class MainWindow(QMainWindow):
    """Hosts the tabs; each tab gets only the collaborators it needs, never the whole :class:`Services`."""

    def __init__(self, services: Services, runner: JobRunner) -> None:
        super().__init__()
        self.setWindowTitle("MedStation — offline clinical workstation")
        self.runner = runner
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)

        from medstation.ui.admin.tab import AdminTab
        from medstation.ui.chat.tab import ChatTab
        from medstation.ui.notes.tab import NotesTab
        from medstation.ui.segmentation.panel import SegmentationPanel
        from medstation.ui.viewer.tab import ViewerTab

        s = services
        self.viewer_tab = ViewerTab(imaging=s.imaging, settings=s.settings, runner=runner, db=s.db, session=s.session)
        # The window mounts the segmentation panel; the viewer only hosts side panels.
        self.segmentation_panel = SegmentationPanel(self.viewer_tab, s.segmentation, runner, session=s.session,
                                                    exports_dir=s.settings.exports_dir, shadow=s.shadow)
        self.viewer_tab.add_side_panel(self.segmentation_panel, "Segmentation")
        self.chat_tab = ChatTab(llm=s.llm, kb=s.kb, db=s.db, settings=s.settings, runner=runner, session=s.session)
        self.notes_tab = NotesTab(s.notes, runner, shadow=s.shadow)
        self.admin_tab = AdminTab(training=s.training, runner=runner, session=s.session)
        self.tabs.addTab(self.viewer_tab, "Viewer")
        self.tabs.addTab(self.chat_tab, "Chat")
        self.tabs.addTab(self.notes_tab, "Notes")
        self.tabs.addTab(self.admin_tab, "Admin")

        self._activity = QLabel("")
        self.statusBar().addPermanentWidget(self._activity)
        runner.sig_job_started.connect(self._on_runner_job_started)

    def select_tab(self, name: str) -> None:
        name = (name or "viewer").lower()
        if name in TAB_NAMES:
            self.tabs.setCurrentIndex(TAB_NAMES.index(name))

    def start(self, open_path: Path | None = None) -> None:
        """Called once the window is shown: index the sample study or the given path."""
        self.viewer_tab.start(open_path)

    def _on_runner_job_started(self, handle: JobHandle) -> None:
        handle.sig_progress.connect(lambda f, m, h=handle: self._activity.setText(f"{h.lane}: {m} ({f:.0%})"))
        handle.sig_finished.connect(self._refresh_activity)

    def _refresh_activity(self) -> None:
        if not self.runner.active():
            self._activity.setText("")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if not self.viewer_tab.confirm_close():  # drafts or a running propagation: asked first
            event.ignore()
            return
        self.runner.cancel_all()
        super().closeEvent(event)
