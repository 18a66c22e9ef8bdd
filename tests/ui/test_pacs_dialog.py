"""The PACS dialog against a real Orthanc: a failed test explained, a query shown as remote, a retrieve indexed.

With ``MEDSTATION_SCREENSHOTS=DIR`` the three states are saved as PNGs (offscreen grabs) for the docs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medstation.access.roles import UserSession
from medstation.imaging.catalog import catalog
from medstation.imaging.pacs.service import PacsService
from medstation.ui.runner import JobRunner
from medstation.ui.viewer.pacs_dialog import PacsDialog
from tests.pacs.conftest import LOCAL_AE, pacs  # noqa: F401  (fixture: a running Orthanc with two studies)
from tests.ui.viewer_fixtures import viewer  # noqa: F401  (fixture)


def _shot(widget, name: str) -> None:
    folder = os.environ.get("MEDSTATION_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


@pytest.fixture
def dialog(qtbot, settings, db):
    runner = JobRunner()
    dlg = PacsDialog(PacsService(settings, db, UserSession.from_os_user()), runner)
    qtbot.addWidget(dlg)
    dlg.resize(1000, 640)
    dlg.show()
    yield dlg
    runner.shutdown()


def _dimse(dlg, pacs, local_ae=LOCAL_AE):  # noqa: F811
    dlg.use_dimse.setChecked(True)
    dlg.ae_title.setText(pacs.server.aet)
    dlg.host.setText("127.0.0.1")
    dlg.port.setValue(pacs.server.dicom_port)
    dlg.local_ae.setText(local_ae)
    dlg.listener_port.setValue(pacs.listener_port)


def test_failed_test_is_explained_under_the_button(dialog, qtbot, pacs):  # noqa: F811
    _dimse(dialog, pacs, local_ae="STRANGER")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "STRANGER" in dialog.test_result.text() and "add this workstation" in
                    dialog.test_result.text(), timeout=30000)
    assert "0xC000" in dialog.test_result.text()
    _shot(dialog, "pacs_test_failed.png")
    _dimse(dialog, pacs)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "OK:" in dialog.test_result.text(), timeout=30000)
    assert "one instance arrived" in dialog.test_result.text()


def test_query_then_retrieve_indexes_the_study(dialog, qtbot, pacs, db):  # noqa: F811
    dialog.use_dicomweb.setChecked(True)
    dialog.url.setText(pacs.server.dicomweb_url)
    dialog.patient_id.setText("PACS-CT-1")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=30000)
    assert dialog.results.item(0, 0).text() == "remote"
    assert dialog.results.item(0, 7).text() == pacs.studies["ct"][0]
    _shot(dialog, "pacs_query.png")
    with qtbot.waitSignal(dialog.sig_retrieved, timeout=60000) as got:
        dialog.retrieve_button.click()
    assert len(got.args[0]) == 2
    assert sum(se.n_instances for p in catalog(db) for st in p.studies for se in st.series) == pacs.studies["ct"][1]


def test_bad_date_is_refused_before_any_network_call(dialog):
    dialog.use_dicomweb.setChecked(True)
    dialog.url.setText("http://127.0.0.1:1/dicom-web")
    dialog.date_from.setText("2024-01-01")
    dialog.search_button.click()
    assert "YYYYMMDD" in dialog.status.text()


def test_viewer_action_opens_the_dialog_and_shows_the_retrieved_study(viewer, qtbot, pacs, monkeypatch):  # noqa: F811
    from medstation.ui.viewer import pacs_dialog

    opened = []
    real_open = pacs_dialog.open_pacs_dialog
    monkeypatch.setattr(pacs_dialog, "open_pacs_dialog", lambda tab: opened.append(real_open(tab)))
    next(a for a in viewer.toolbar.actions() if a.text() == "PACS…").trigger()
    dlg = opened[0]
    dlg.use_dicomweb.setChecked(True)
    dlg.url.setText(pacs.server.dicomweb_url)
    dlg.modality.setText("MR")
    dlg.search_button.click()
    qtbot.waitUntil(lambda: dlg.results.rowCount() == 1, timeout=30000)
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=60000) as loaded:
        dlg.retrieve_button.click()
    assert loaded.args[0].pixels.shape[0] == 6  # the MR study's 6-slice series, opened in the viewer
    dlg.close()
    qtbot.wait(300)
    _shot(viewer, "pacs_retrieved_in_viewer.png")
