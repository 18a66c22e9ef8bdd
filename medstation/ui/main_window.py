"""Main window: the tabs a role may use, a session menu, and a status bar showing what runs in the background.

Role-tailored (:mod:`medstation.ui.access.role_tabs`): a therapist sees Chat and Notes, a radiologist
Viewer and Chat, read-only the Viewer without its segmentation panel or export; admins everything. The
services still check every permission. The Admin tab is built the first time someone who may see it
is signed in (its sections depend on their permissions).

Session menu: Switch user / Sign out (:mod:`medstation.ui.access.switch_user`: open work is kept
under a cover, as the idle lock keeps it) and Quit (Ctrl+Q, ``QKeySequence.Quit``), which closes the
window the normal way, so unsaved drafts are asked about first.

Cold start (issue 22): only the Viewer is built with the window. The Chat, Notes and Admin tabs are
empty pages until they are first shown (or asked for: ``window.chat_tab``), so their imports (the answer
pipeline, the note drafter, the training service) and their first reads do not delay the first study.
The knowledge base's first check builds the Chat tab once the first study is shown.

Layout: the window never grows past the screen it is on (its maximum size is the screen's
available area; its minimum is fixed, so no label's text can raise it); the Viewer's status lines
wrap and elide and its image column cannot be collapsed (see ``ui/viewer/layout.py``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from medstation.access.account_admin import AccountAdmin
from medstation.access.roles import Actor
from medstation.access.users import AccountStore
from medstation.app import Services
from medstation.ui.access.role_tabs import TAB_ORDER, role_view
from medstation.ui.access.switch_user import SessionSwitcher
from medstation.ui.runner import JobHandle, JobRunner, Lane
from medstation.ui.viewer.status_line import StatusLine, let_labels_shrink

TAB_NAMES = TAB_ORDER
TAB_TITLES = {"viewer": "Viewer", "chat": "Chat", "notes": "Notes", "admin": "Admin"}
MEASURING_TOOLS = ("ruler", "roi", "angle")
MIN_WINDOW = (960, 600)  # px; below this the Viewer's panels no longer fit side by side
KB_START_DELAY_MS = 8_000  # the knowledge base's first check waits at most this long for the first study
KB_AFTER_STUDY_MS = 500  # ...and starts this long after the study is shown (it builds the Chat tab: painted first)
CLOSE_WAIT_MS = 10_000  # closing waits this long for the saves in the io lane (the database's busy_timeout)


def active_model_text(ctx, registry) -> str:
    """Job (io lane): one line naming the active segmentation model version for the Viewer toolbar."""
    active = registry.active("segmentation")
    if active is None:
        return "Segmentation model: bundled LiteMedSAM (registered on first use)"
    return f"Segmentation model: #{active.id} {active.name}"


class MainWindow(QMainWindow):
    """Hosts the tabs; each tab gets only the collaborators it needs, never the whole :class:`Services`."""

    def __init__(self, services: Services, runner: JobRunner) -> None:
        super().__init__()
        self.setWindowTitle("MedStation — offline clinical workstation")
        self.services = services
        self.runner = runner
        runner.error_parent = self  # a job failure no slot handles opens its dialog over this window
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)

        from medstation.ui.segmentation.panel import SegmentationPanel
        from medstation.ui.viewer.tab import ViewerTab

        s = services
        self.viewer_tab = ViewerTab(imaging=s.imaging, settings=s.settings, runner=runner, db=s.db, session=s.session)
        # The window mounts the segmentation panel; the viewer only hosts side panels.
        self.segmentation_panel = SegmentationPanel(self.viewer_tab, s.segmentation, runner, session=s.session,
                                                    exports_dir=s.settings.exports_dir, shadow=s.shadow)
        self.viewer_tab.add_side_panel(self.segmentation_panel, "Segmentation")
        let_labels_shrink(self.viewer_tab.side_tabs)  # a long panel message wraps instead of widening the window
        self._built: dict[str, QWidget] = {"viewer": self.viewer_tab}  # tabs built so far
        self._pages: dict[str, QWidget] = {"viewer": self.viewer_tab}  # what each tab's page is now
        self.tabs.addTab(self.viewer_tab, "Viewer")
        for name in ("chat", "notes"):  # the admin page is added for the first person who may see it
            self._add_page(name)
        self._viewer_started = False
        self._open_path: Path | None = None
        self._kb_started = False
        self.viewer_tab.sig_volume_loaded.connect(
            lambda _volume: QTimer.singleShot(KB_AFTER_STUDY_MS, self, self._start_kb))

        self._activity = StatusLine(max_lines=1)
        self._activity.setFixedWidth(360)
        self.statusBar().addPermanentWidget(self._activity)
        self.user_label = QLabel("")
        self.user_label.setObjectName("signed_in_user")
        self.statusBar().addPermanentWidget(self.user_label)
        runner.sig_job_started.connect(self._on_runner_job_started)

        self.switcher = SessionSwitcher(self, AccountStore(s.db), s.session, runner,
                                        unsaved_work=self.viewer_tab.unsaved_work, on_signed_in=self._on_signed_in)
        self.idle_lock = None  # set by medstation.ui.access.gate.install_access once accounts exist
        self._build_menu()
        self.setMinimumSize(*MIN_WINDOW)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.apply_actor(s.session.actor)

    # -- session --------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Session")
        self.switch_action = QAction("Switch user…", self)
        self.switch_action.triggered.connect(lambda: self.sign_out(reason="switch user"))
        self.sign_out_action = QAction("Sign out", self)
        self.sign_out_action.triggered.connect(lambda: self.sign_out())
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        if self.quit_action.shortcut().isEmpty():  # platforms without a standard Quit key (Windows)
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)  # the normal close path: closeEvent asks about drafts
        for action in (self.switch_action, self.sign_out_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self.addAction(self.quit_action)  # the shortcut works whichever tab has focus

    def sign_out(self, reason: str = "sign out") -> bool:
        why_not = self.switcher.available()
        if why_not:
            self.statusBar().showMessage(why_not, 8000)
            return False
        self._save_pending("before signing out")  # the writes still carry this person's permission
        if self.switcher.sign_out(reason=reason):
            self.user_label.setText("signed out")
            return True
        return False

    def _on_signed_in(self, actor: Actor) -> None:
        self.apply_actor(actor)
        if self.idle_lock is not None:
            self.idle_lock._restart()  # its timer stopped while nobody was signed in

    def apply_actor(self, actor: Actor | None) -> None:
        """Show the tabs and Viewer controls ``actor``'s role may use (the services still check)."""
        view = role_view(actor)
        if view.shows("admin") and "admin" not in self._pages:
            self._add_page("admin")
        for name in TAB_NAMES:
            widget = self._pages.get(name)
            if widget is not None:
                self.tabs.setTabVisible(self.tabs.indexOf(widget), view.shows(name))
        self.viewer_tab.side_tabs.setVisible(view.edit_imaging)
        self.viewer_tab.toolbar.export.setVisible(view.export_imaging)
        for name in MEASURING_TOOLS:  # measurements are stored work ("edit imaging"): view-only roles navigate
            self.viewer_tab.toolbar.tool_actions[name].setVisible(view.edit_imaging)
        if not view.edit_imaging:
            self.viewer_tab.set_tool("navigate")
        current = next((n for n in TAB_NAMES if self._pages.get(n) is self.tabs.currentWidget()), None)
        if view.tabs and current not in view.tabs:
            self.select_tab(view.tabs[0])
        base = self.windowTitle().split(" · ")[0]
        self.setWindowTitle(f"{base} · {actor.name} ({actor.role.value})" if actor else base)
        self.user_label.setText(f"{actor.name} ({actor.role.value.replace('_', '-')})" if actor else "")
        if self._start_requested and view.shows("viewer"):
            self._start_viewer()

    # -- tabs built on first use ---------------------------------------------------------------
    @property
    def chat_tab(self):
        return self._tab("chat")

    @property
    def notes_tab(self):
        return self._tab("notes")

    @property
    def admin_tab(self):
        """The Admin tab, or None while nobody who may see it has signed in."""
        return self._tab("admin")

    def is_built(self, name: str) -> bool:
        """Whether tab ``name`` has been built (an unbuilt tab is an empty page until first shown)."""
        return name in self._built

    def _add_page(self, name: str) -> None:
        page = QWidget()
        page.setObjectName(f"{name}_page")
        self._pages[name] = page
        self.tabs.addTab(page, TAB_TITLES[name])

    def _tab(self, name: str):
        """Tab ``name``, built now if its page is still empty; None when it has no page (admin, not allowed)."""
        if name in self._built:
            return self._built[name]
        page = self._pages.get(name)
        if page is None:
            return None
        widget = getattr(self, f"_build_{name}_tab")()
        self._built[name] = self._pages[name] = widget
        index = self.tabs.indexOf(page)
        visible, current = self.tabs.isTabVisible(index), self.tabs.currentIndex() == index
        self.tabs.blockSignals(True)  # the same tab stays current: no tab change to report
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, widget, TAB_TITLES[name])
            self.tabs.setTabVisible(index, visible)
            if current:
                self.tabs.setCurrentIndex(index)
        finally:
            self.tabs.blockSignals(False)
        page.deleteLater()
        return widget

    def _build_chat_tab(self):
        from medstation.llm.answer.conversation import Conversation
        from medstation.ui.chat.tab import ChatTab

        s = self.services
        return ChatTab(llm=s.llm, kb=s.kb, conversation=Conversation(db=s.db, llm=s.llm, kb=s.kb),
                       settings=s.settings, runner=self.runner, session=s.session, defer_starter=True)

    def _build_notes_tab(self):
        from medstation.ui.notes.tab import NotesTab

        return NotesTab(self.services.notes, self.runner, shadow=self.services.shadow)

    def _build_admin_tab(self):
        from medstation.ui.admin.tab import AdminTab

        s = self.services
        admin = AdminTab(training=s.training, runner=self.runner, session=s.session,
                         accounts=AccountAdmin(AccountStore(s.db), s.session))
        admin.sig_models_changed.connect(self.refresh_model_version)
        return admin

    def visible_tab_names(self) -> list[str]:
        return [n for n in TAB_NAMES if n in self._pages and self.tabs.isTabVisible(self.tabs.indexOf(self._pages[n]))]

    # -- tabs -----------------------------------------------------------------------------------
    def select_tab(self, name: str) -> None:
        name = (name or "viewer").lower()
        page = self._pages.get(name) if name in TAB_NAMES else None
        if page is not None and self.tabs.isTabVisible(self.tabs.indexOf(page)):
            self.tabs.setCurrentWidget(self._tab(name))

    _start_requested = False

    def start(self, open_path: Path | None = None) -> None:
        """Called once the window is shown: index the sample study or the given path (when the role may view)."""
        self._start_requested, self._open_path = True, open_path
        if role_view(self.services.session.actor).shows("viewer"):
            self._start_viewer()
            # The knowledge base's first check waits for the first study (it would queue ahead of the study's
            # reads in the io lane), or at most KB_START_DELAY_MS when no study loads.
            QTimer.singleShot(KB_START_DELAY_MS, self, self._start_kb)
        else:
            self._start_kb()
        self.refresh_model_version()

    def _start_kb(self) -> None:
        """Once: check the knowledge base and ingest the starter set when it is empty (Chat tab)."""
        if not self._kb_started:
            self._kb_started = True
            self.chat_tab.load_starter_if_empty()

    def _start_viewer(self) -> None:
        if not self._viewer_started:
            self._viewer_started = True
            self.viewer_tab.start(self._open_path)

    def refresh_model_version(self):
        """Show the active segmentation model version in the Viewer toolbar (read in the io lane)."""
        handle = self.runner.submit("io", active_model_text, self.services.registry, name="active model", queue=True)
        handle.sig_done.connect(self.viewer_tab.toolbar.show_model)
        return handle

    def _on_tab_changed(self, index: int) -> None:
        name = next((n for n, page in self._pages.items() if page is self.tabs.widget(index)), None)
        if name is not None and name not in self._built:
            self._tab(name)  # first shown: build it in place of its empty page
        if self.tabs.currentWidget() is self.viewer_tab:
            self.refresh_model_version()

    # -- activity and size ----------------------------------------------------------------------
    def _on_runner_job_started(self, handle: JobHandle) -> None:
        handle.sig_progress.connect(lambda f, m, h=handle: self._activity.setText(f"{h.lane}: {m} ({f:.0%})"))
        handle.sig_finished.connect(self._refresh_activity)

    def _refresh_activity(self) -> None:
        if not self.runner.active():
            self._activity.setText("")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.fit_to_screen()
        super().showEvent(event)

    def _available_area(self):
        """The available QRect of the screen the window is on (None before it has one)."""
        screen = self.screen()
        return screen.availableGeometry() if screen is not None else None

    def fit_to_screen(self) -> None:
        """Cap the window at its screen's available area (never past the screen, whatever a label says)."""
        area = self._available_area()
        if area is None:
            return
        self.setMinimumSize(min(MIN_WINDOW[0], area.width()), min(MIN_WINDOW[1], area.height()))
        self.setMaximumSize(area.width(), area.height())
        if self.width() > area.width() or self.height() > area.height():
            self.resize(min(self.width(), area.width()), min(self.height(), area.height()))

    def _say_saving(self, n: int, why: str) -> None:
        self.statusBar().showMessage(f"Saving {n} change(s) {why}…")
        self.statusBar().repaint()  # painted now: the GUI thread waits for the io lane next

    def _save_pending(self, why: str) -> bool:
        """Flush the Notes buffer and wait (bounded, said on the status bar) for the io lane's writes."""
        if self.is_built("notes"):
            self.notes_tab.flush()
        pending = len(self.runner.active(Lane.IO))
        if pending:
            self._say_saving(pending, why)
        return self.runner.drain(Lane.IO, CLOSE_WAIT_MS)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if not self.viewer_tab.confirm_close():  # drafts or a running propagation: asked first
            event.ignore()
            return
        if self.is_built("notes"):
            self.notes_tab.flush()  # unsaved keystrokes join the io lane, which closing never cancels
        if not self.runner.close_down(CLOSE_WAIT_MS, waiting=lambda n: self._say_saving(n, "before closing")):
            event.ignore()  # the database stayed busy: keep the window, try again
            self.statusBar().showMessage("Still saving (the database is busy); the window closes when it is done.")
            QTimer.singleShot(1000, self.close)  # asks about unaccepted segments again, if any are left
            return
        self.runner.cancel_all()
        super().closeEvent(event)
