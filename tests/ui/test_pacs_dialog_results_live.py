"""Results the dialog shows can be acted on at once: the buttons come back with the answer, not after it.

The job thread emits "done" and then, separately, "finished". On a loaded machine the GUI thread can show
the search results before "finished" arrives; the buttons were re-enabled only then, so a click on
"Retrieve selected" in that gap did nothing (CI on 2026-12-07: the retrieve never started and the test
waited 60 s). Here the gap is widened on purpose to make that race certain.
"""

from __future__ import annotations

import time

from medstation.imaging.pacs.node import StudyHit
from medstation.ui import runner as runner_module
from medstation.ui.runner import JobRunner
from medstation.ui.viewer.pacs_dialog import PacsDialog


class _Service:
    """Only what the dialog calls for a search; a retrieve records that it started."""

    def __init__(self) -> None:
        self.retrieved: list[str] = []

    def query_job(self, ctx, node, query):
        return [StudyHit(study_uid="1.2.3", patient_id="P-1", modalities=("CT",), n_instances=4)]

    def retrieve_job(self, ctx, node, study_uid):
        self.retrieved.append(study_uid)
        raise RuntimeError("not a real PACS")


def test_retrieve_works_as_soon_as_the_results_show(qtbot, monkeypatch):
    real_emit = runner_module._Task._emit

    def slow_finish(self, name, *args):
        real_emit(self, name, *args)
        if name in ("_raw_done", "_raw_failed"):
            time.sleep(0.5)  # the job thread is descheduled right after sending its result

    monkeypatch.setattr(runner_module._Task, "_emit", slow_finish)
    service, runner = _Service(), JobRunner()
    dialog = PacsDialog(service, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.use_dicomweb.setChecked(True)
    dialog.url.setText("http://127.0.0.1:1/dicom-web")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    assert dialog.retrieve_button.isEnabled() and not dialog.cancel_button.isEnabled()
    dialog.retrieve_button.click()
    qtbot.waitUntil(lambda: service.retrieved == ["1.2.3"], timeout=10000)
    qtbot.waitUntil(lambda: "not a real PACS" in dialog.status.text(), timeout=10000)
    assert dialog.search_button.isEnabled()  # a failure gives the buttons back at once too
    runner.shutdown()
