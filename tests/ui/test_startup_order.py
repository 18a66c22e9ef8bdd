"""Cold start (issue 22): the knowledge base's first check (it opens the vector store, importing chromadb: seconds in
the single-thread io lane) waits until the first study is shown, so the study's reads are not queued behind it.

Fails on cd183f4: the Chat tab submitted the check while the window was being built, ahead of the sample study.
"""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.app import build_services
from medstation.config import Settings
from medstation.ui import main_window
from medstation.ui.chat import tab as chat_tab
from medstation.ui.main_window import MainWindow
from medstation.ui.runner import JobRunner


@pytest.fixture
def started(qtbot, medstation_home, monkeypatch):
    """``started(role)`` -> (window, checks): the window built and started; ``checks`` records each starter check."""
    checks: list[str] = []
    monkeypatch.setattr(chat_tab, "needs_starter", lambda kb: checks.append("checked") or False)
    monkeypatch.setattr(main_window, "KB_START_DELAY_MS", 1500, raising=False)
    made = []

    def start(role: Role):
        services = build_services(Settings(sample_study=False), session=UserSession(Actor("someone", role)))
        runner = JobRunner()
        window = MainWindow(services, runner)
        qtbot.addWidget(window)
        made.append((runner, services))
        window.show()
        window.start(None)
        return window, checks

    yield start
    for runner, services in made:
        runner.shutdown()
        services.close()


def test_the_knowledge_base_check_waits_for_the_study_or_the_delay(qtbot, started):
    window, checks = started(Role.admin)
    qtbot.wait(400)  # the io lane has run what the window queued while it was built
    assert checks == [], "the knowledge base was checked before the first study (or the delay) came"
    qtbot.waitUntil(lambda: checks == ["checked"], timeout=5000)  # no study loads (sample_study=False): the delay
    window._start_kb()  # a later study does not check again
    qtbot.wait(200)
    assert checks == ["checked"]


def test_a_role_without_the_viewer_checks_the_knowledge_base_at_once(qtbot, started):
    window, checks = started(Role.therapist)
    assert "viewer" not in window.visible_tab_names()
    qtbot.waitUntil(lambda: checks == ["checked"], timeout=1000)
