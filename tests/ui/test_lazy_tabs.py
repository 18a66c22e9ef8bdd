"""Cold start (issue 22): the window opens with the Viewer only; Chat, Notes and Admin are built when first shown.

The first screen is the Viewer with the sample study. The other tabs' imports (the answer pipeline, the note
drafter, the training service behind the Admin tab) cost about a second of a cold start, so they wait until
someone opens the tab. ``test_a_fresh_process_opens_the_window_without_the_other_tabs_imports`` fails on
ad2cb94 (every tab and service was built with the window).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.app import build_services
from medstation.config import Settings
from medstation.ui.main_window import MainWindow
from medstation.ui.runner import JobRunner

ROOT = Path(__file__).resolve().parents[2]
DEFERRED = ("medstation.ui.chat.tab", "medstation.llm.answer.conversation", "medstation.ui.notes.tab",
            "medstation.notes.service", "medstation.ui.admin.tab", "medstation.training.service")

# A fresh interpreter (this test process has imported everything already): open the window as `medstation gui`
# does, record which deferred modules are loaded, then switch to Chat and record again.
PROBE = f"""
import json, sys
from medstation.ui.launch import open_workstation
station = open_workstation()
window = station.window
loaded = lambda: sorted(m for m in {DEFERRED!r} if m in sys.modules)
tabs = [window.tabs.tabText(i).lower() for i in range(window.tabs.count())]
at_open = loaded()
window.tabs.setCurrentIndex(tabs.index("chat"))  # what a click on the Chat tab does
station.app.processEvents()
report = dict(tabs=tabs, at_open=at_open, after_chat=loaded(),
              chat_shown=window.tabs.currentWidget() is window.chat_tab and type(window.chat_tab).__name__)
window.hide()
station.close()
print("PROBE" + json.dumps(report))
"""


def test_a_fresh_process_opens_the_window_without_the_other_tabs_imports(tmp_path):
    env = {**os.environ, "MEDSTATION_HOME": str(tmp_path / "home"), "MEDSTATION_KB_STARTER": "false",
           "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    line = next((x for x in run.stdout.splitlines() if x.startswith("PROBE")), None)
    assert line is not None, run.stderr[-3000:]
    report = json.loads(line[len("PROBE"):])
    assert report["tabs"] == ["viewer", "chat", "notes", "admin"]  # every tab is there, titled, from the start
    assert report["at_open"] == [], f"imported before any tab but the Viewer was shown: {report['at_open']}"
    assert "medstation.ui.chat.tab" in report["after_chat"] and "medstation.ui.admin.tab" not in report["after_chat"]
    assert report["chat_shown"] == "ChatTab"


@pytest.fixture
def window(qtbot, medstation_home):
    services = build_services(Settings(sample_study=False), session=UserSession(Actor("ann", Role.admin)))
    runner = JobRunner()
    made = MainWindow(services, runner)
    qtbot.addWidget(made)
    made.show()
    yield made
    runner.shutdown()
    services.close()


def test_a_tab_is_built_in_place_when_first_shown_and_only_once(qtbot, window):
    assert not any(window.is_built(n) for n in ("chat", "notes", "admin"))
    changes = []
    window.tabs.currentChanged.connect(changes.append)
    window.tabs.setCurrentIndex(2)  # Notes, by its place
    assert window.is_built("notes") and not window.is_built("chat")
    notes = window.tabs.currentWidget()
    assert type(notes).__name__ == "NotesTab" and notes is window.notes_tab
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["Viewer", "Chat", "Notes", "Admin"]
    assert changes == [2], "building the tab must not report extra tab changes"
    window.select_tab("viewer")
    window.select_tab("notes")
    assert window.notes_tab is notes  # not built again


def test_a_tab_asked_for_by_name_is_built_and_closing_leaves_unbuilt_tabs_alone(qtbot, window):
    admin = window.admin_tab  # built on demand (the signed-in admin may see it)
    assert type(admin).__name__ == "AdminTab" and window.tabs.indexOf(admin) == 3
    assert window.tabs.currentWidget() is window.viewer_tab  # asking for it does not switch to it
    window.close()
    assert not window.is_built("notes")  # closing flushed nothing it did not have
