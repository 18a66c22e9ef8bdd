from __future__ import annotations

from medstation.app import build_services
from medstation.config import Settings
from medstation.ui.main_window import MainWindow
from medstation.ui.runner import JobRunner


def test_main_window_has_four_tabs(qtbot, medstation_home):
    services = build_services(Settings())
    runner = JobRunner()
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    window.show()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Viewer", "Chat", "Notes", "Admin"]
    for name in ("chat", "notes", "admin", "viewer"):  # start away from the default tab
        window.select_tab(name)
        qtbot.wait(10)
        assert window.tabs.currentWidget() is getattr(window, f"{name}_tab")
        assert window.tabs.tabText(window.tabs.currentIndex()).lower() == name
    runner.shutdown()
    services.close()
