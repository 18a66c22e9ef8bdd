"""Admin tab, "agent" column (issue 25.5): which training agent runs what, with its heartbeat's age; queued
runs say so; runs a workstation trained itself say that. Read in the io lane, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import TrainingRun, TrainingRunStatus, utcnow
from medstation.training import runs
from medstation.training.agent import claims
from medstation.training.service import TrainingService
from medstation.ui.admin.tab import RUN_COLUMNS, AdminTab
from medstation.ui.runner import JobRunner

pytestmark = pytest.mark.both_engines
AGENT = RUN_COLUMNS.index("agent")


@pytest.fixture
def tab(qtbot, db, settings):
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=ModelRegistry(db))
    runner = JobRunner()
    widget = AdminTab(service, runner, service.session)
    qtbot.addWidget(widget)
    yield widget
    runner.shutdown()


def _enqueue(db, settings):
    return runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                        params={"epochs": 1}, actor="ann").id


def _set_heartbeat(db, run_id, seconds_ago):
    with db.session() as s:
        row = s.get(TrainingRun, run_id)
        claim = dict(row.params["agent"])
        row.params = {**row.params, "agent": {**claim, "heartbeat_at": (utcnow() - timedelta(seconds=seconds_ago))
                                              .isoformat()}}
        s.add(row)


def _agent_cells(widget) -> dict[int, str]:
    table = widget.runs_table
    return {int(table.item(i, 0).text()): table.item(i, AGENT).text() for i in range(table.rowCount())}


def test_the_runs_list_says_which_agent_runs_what(qtbot, tab, db, settings, request):
    local = _enqueue(db, settings)  # trained by a workstation's own process lane: no claim
    runs.mark_running(db, local, os.getpid())
    runs.finish(db, local, TrainingRunStatus.succeeded)
    claimed = _enqueue(db, settings)
    info, _token = claims.claim_next(db, claims.AgentIdentity(name="gpu-1", host="trainbox", pid=4242),
                                     ("segmentation",))
    assert info.id == claimed
    silent = _enqueue(db, settings)
    claims.claim_next(db, claims.AgentIdentity(name="trainbox:77", host="trainbox", pid=77), ("segmentation",))
    _set_heartbeat(db, silent, 600)
    waiting = _enqueue(db, settings)
    withdrawn = _enqueue(db, settings)
    tab.training.cancel_queued(withdrawn)

    handle = tab.refresh()
    assert handle.lane == "io"  # the database is read off the GUI thread
    with qtbot.waitSignal(handle.sig_done, timeout=15000):
        pass
    cells = _agent_cells(tab)
    engine = request.node.callspec.params["db"]
    assert cells[local] == ("this workstation" if engine == "sqlite" else "a workstation")
    assert cells[claimed].startswith("gpu-1 on trainbox · heartbeat ") and cells[claimed].endswith(" s ago")
    assert int(cells[claimed].split("heartbeat ")[1].split(" ")[0]) < 60
    assert cells[silent] == "trainbox:77 · heartbeat 10 min ago (silent: will be requeued)"
    assert cells[waiting] == "queued" and cells[withdrawn] == ""
    assert RUN_COLUMNS[-1] == "error" and tab.runs_table.item(0, RUN_COLUMNS.index("status")).text() == "cancelled"
    # the live status line names the agent of a run this window did not start
    assert "on gpu-1 on trainbox" in tab.status.text() or "on trainbox:77" in tab.status.text()

    # the silent agent's run is given back to the queue by the next agent; the column follows
    claims.requeue_stale(db, ModelRegistry(db), stale_after_s=60, actor="gpu-2")
    with qtbot.waitSignal(tab.refresh().sig_done, timeout=15000):
        pass
    assert _agent_cells(tab)[silent] == "queued (requeued 1×)"
