"""A Notes tab over two clients, each with one session, a transcript and a stored draft (extractive: no model).

Shared by the Notes integrity tests. ``wait_idle`` waits until no job of the runner is left, so a test
sees the tab after every lane has answered (the tab does its database work in lanes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.records import NoteInfo, SessionInfo
from medstation.notes.service import NotesService
from medstation.ui.notes.tab import NotesTab
from medstation.ui.runner import JobHandle, JobRunner

SESSION_A = """Therapist: How was the week?
Client: I have been feeling anxious at work and I have trouble sleeping most nights since the move.
Therapist: We will practice breathing exercises and I want you to keep a sleep diary until next session.
"""
SESSION_B = """Therapist: What brings you in today?
Client: My father passed away in March and I cannot concentrate at my job.
Therapist: We will talk about grief next week and you could write a letter to him.
"""


@dataclass
class World:
    notes: NotesService
    runner: JobRunner
    tab: NotesTab
    sa: SessionInfo
    sb: SessionInfo
    note_a: NoteInfo
    note_b: NoteInfo
    jobs: list[JobHandle] = field(default_factory=list)


def wait_idle(qtbot, runner: JobRunner, timeout: int = 60_000) -> None:
    """Until every submitted job has finished and its signals were delivered.

    ``runner.active()`` is not enough: a job's ``finished`` flag is set in its own thread before its result
    reaches the GUI thread (where the tab may submit the next job). The runner forgets a handle on the GUI
    thread after ``sig_finished``, so an empty ``_current`` means every result was handled."""
    qtbot.wait(1)
    qtbot.waitUntil(lambda: not any(runner._current.values()), timeout=timeout)
    qtbot.wait(5)


def show_session(qtbot, world: World, session: SessionInfo) -> None:
    world.tab.select_session(session.id)
    wait_idle(qtbot, world.runner)
    qtbot.waitUntil(lambda: world.tab.note is not None and world.tab.note.session_id == session.id)


@pytest.fixture
def world(qtbot, settings, db):
    notes = NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))
    ca, cb = notes.create_client("C-001"), notes.create_client("C-002")
    sa, sb = notes.create_session(ca.id, "2026-11-30"), notes.create_session(cb.id, "2026-12-01")
    notes.import_transcript(sa.id, SESSION_A, "a.txt")
    notes.import_transcript(sb.id, SESSION_B, "b.txt")
    note_a = notes.draft(JobContext(), sa.id, "soap")
    note_b = notes.draft(JobContext(), sb.id, "soap")
    runner = JobRunner()
    tab = NotesTab(notes, runner)
    qtbot.addWidget(tab)
    w = World(notes, runner, tab, sa, sb, note_a, note_b)
    runner.sig_job_started.connect(w.jobs.append)
    wait_idle(qtbot, runner)
    yield w
    runner.shutdown()
