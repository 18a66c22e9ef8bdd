"""Import… reads the chosen file in the io lane, and refuses a file far too big for a transcript without
reading it (a session recording or a video picked by mistake: gigabytes).

Fails on commit 7d7286b (helper "breaknotes"): the whole file was read on the GUI thread before any check,
so picking a 2 GB video froze the window while it was read into memory, only to be refused.
"""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QFileDialog

from medstation.notes.transcript import MAX_BYTES
from tests.ui.notes_world import SESSION_B, show_session, wait_idle, world  # noqa: F401 (fixture)


def _pick(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))


def test_a_huge_file_is_refused_without_being_read(qtbot, world, monkeypatch, tmp_path):
    tab = world.tab
    show_session(qtbot, world, world.sa)
    huge = tmp_path / "session_video.mp4.txt"
    with open(huge, "wb") as f:  # sparse: nothing is written to disk
        f.truncate(2_000_000_000)
    reads = []
    path_type, real_read, real_open = type(huge), type(huge).read_bytes, type(huge).open

    def watching_read(self):
        reads.append(str(self))
        return real_read(self)

    def watching_open(self, *args, **kwargs):
        reads.append(str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(path_type, "read_bytes", watching_read)
    monkeypatch.setattr(path_type, "open", watching_open)
    _pick(monkeypatch, huge)
    versions = world.notes.latest_transcript(world.sa.id)[0].version
    tab.session_actions.import_file()
    wait_idle(qtbot, world.runner)
    assert reads == []  # never read at all
    assert "2000.0 MB" in tab.status.text() and "refused" in tab.status.text()
    assert world.notes.latest_transcript(world.sa.id)[0].version == versions


def test_a_transcript_file_is_read_off_the_gui_thread_and_stored(qtbot, world, monkeypatch, tmp_path):
    tab = world.tab
    show_session(qtbot, world, world.sa)
    path = tmp_path / "next.txt"
    path.write_text(SESSION_B, encoding="utf-8")
    on_gui = []
    real_read = type(path).read_bytes

    def watching_read(self):
        on_gui.append(threading.current_thread() is threading.main_thread())
        return real_read(self)

    monkeypatch.setattr(type(path), "read_bytes", watching_read)
    _pick(monkeypatch, path)
    tab.session_actions.import_file()
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: "Stored transcript version 2" in tab.status.text(), timeout=30_000)
    assert on_gui == [False]
    assert "father passed away" in world.notes.latest_transcript(world.sa.id)[0].text
    assert MAX_BYTES < 2_000_000_000
