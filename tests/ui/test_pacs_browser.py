"""PACS query results in the viewer's study browser, marked remote, and retrieved from there (real Orthanc)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from medstation.imaging.catalog import catalog
from medstation.ui.viewer.browser_remote import REMOTE_COLOUR, REMOTE_HIT_ROLE, remote_study_items
from tests.pacs.conftest import pacs  # noqa: F401  (fixture: a running Orthanc with two studies)
from tests.ui.test_pacs_dialog import _shot
from tests.ui.viewer_fixtures import loaded, viewer  # noqa: F401  (fixtures)


def _search(viewer, qtbot, pacs, **fields):  # noqa: F811
    from medstation.ui.viewer.pacs_dialog import open_pacs_dialog

    dlg = open_pacs_dialog(viewer)
    dlg.use_dicomweb.setChecked(True)
    dlg.url.setText(pacs.server.dicomweb_url)
    for name, value in fields.items():
        getattr(dlg, name).setText(value)
    dlg.search_button.click()
    qtbot.waitUntil(lambda: len(remote_study_items(viewer.browser)) == 1, timeout=30000)
    return dlg


def _top_labels(browser) -> list[str]:
    return [browser.topLevelItem(i).text(0) for i in range(browser.topLevelItemCount())]


def test_query_results_show_beside_local_studies_marked_remote(loaded, qtbot, pacs):  # noqa: F811
    local_before = _top_labels(loaded.browser)
    dlg = _search(loaded, qtbot, pacs, patient_id="PACS-CT-1")
    labels = _top_labels(loaded.browser)
    assert labels[:len(local_before)] == local_before  # local patients are still there
    remote_group = loaded.browser.topLevelItem(len(local_before))
    assert remote_group.text(0).startswith("Remote (") and pacs.server.dicomweb_url in remote_group.text(0)
    item = remote_study_items(loaded.browser)[0]
    node, hit = item.data(0, REMOTE_HIT_ROLE)
    assert hit.study_uid == pacs.studies["ct"][0] and "PACS-CT-1" in item.text(0)
    assert item.text(3) == str(pacs.studies["ct"][1])
    assert item.foreground(0).color() == REMOTE_COLOUR and item.font(0).italic()
    assert "remote study" in item.toolTip(0)
    # a catalog refresh (e.g. after opening a folder) keeps the remote group
    loaded.refresh_catalog()
    qtbot.wait(500)
    qtbot.waitUntil(lambda: len(remote_study_items(loaded.browser)) == 1, timeout=10000)
    dlg.close()
    _shot(loaded, "pacs_remote_in_browser.png")


def test_double_click_on_a_remote_study_retrieves_it_as_local(viewer, qtbot, pacs):  # noqa: F811
    dlg = _search(viewer, qtbot, pacs, modality="MR")
    dlg.close()
    item = remote_study_items(viewer.browser)[0]
    viewer.browser.scrollToItem(item)
    rect = viewer.browser.visualItemRect(item)
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=60000) as loaded_signal:
        # QTreeView acts on a double-click only after a press on the same row (as a real mouse sends)
        qtbot.mouseClick(viewer.browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewer.browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert loaded_signal.args[0].pixels.shape[0] == 6
    qtbot.waitUntil(lambda: not remote_study_items(viewer.browser), timeout=10000)
    series = [se.series_uid for p in catalog(viewer.db) for st in p.studies if st.study_uid == pacs.studies["mr"][0]
              for se in st.series]
    assert len(series) == 1 and viewer.browser.series_item(series[0]) is not None  # now a local series row
    assert not any(t.startswith("Remote (") for t in _top_labels(viewer.browser))  # no empty remote group


def test_context_menu_retrieve_goes_through_the_background_lane(viewer, qtbot, pacs):  # noqa: F811
    dlg = _search(viewer, qtbot, pacs, patient_id="PACS-CT-1")
    dlg.close()
    item = remote_study_items(viewer.browser)[0]
    menu = QMenu()
    action = viewer.browser.retrieve_action(item, menu)
    assert action is not None and action.text() == "Retrieve from PACS"
    assert viewer.browser.retrieve_action(None, QMenu()) is None
    progress = []
    viewer.runner.sig_job_started.connect(lambda h: (progress.append(h.lane),
                                                     h.sig_progress.connect(lambda f, m: progress.append(f))))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=60000):
        action.trigger()
    assert "background" in progress and any(isinstance(p, float) and 0 < p <= 1 for p in progress)
    n = sum(se.n_instances for p in catalog(viewer.db) for st in p.studies if st.study_uid == pacs.studies["ct"][0]
            for se in st.series)
    assert n == pacs.studies["ct"][1]
