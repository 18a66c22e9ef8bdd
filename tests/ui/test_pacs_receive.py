"""The PACS dialog's listener checkbox: on (off the GUI thread), a push is indexed and shown, off frees the port."""

from __future__ import annotations

import socket

from pydicom import dcmread
from pynetdicom import AE, StoragePresentationContexts
from sqlmodel import select

from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.store.tables import AuditEvent
from tests.orthanc_support import free_port
from tests.ui.viewer_fixtures import viewer  # noqa: F401  (fixture)


def _push(paths, port: int, ae_title: str) -> list[int]:
    ae = AE(ae_title="MODALITY")
    ae.requested_contexts = StoragePresentationContexts
    assoc = ae.associate("127.0.0.1", port, ae_title=ae_title)
    assert assoc.is_established
    try:
        return [assoc.send_c_store(dcmread(p)).Status for p in paths]
    finally:
        assoc.release()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def test_listener_checkbox_receives_a_push_into_the_browser(viewer, qtbot, tmp_path):  # noqa: F811
    from medstation.ui.viewer.pacs_dialog import open_pacs_dialog

    dlg = open_pacs_dialog(viewer)
    port = free_port()
    dlg.local_ae.setText("MSRECV")
    dlg.listener_port.setValue(port)
    box = dlg.receiver_box
    assert box.state.text() == "Off."
    box.enabled.setChecked(True)
    qtbot.waitUntil(lambda: "Listening as MSRECV on port %d" % port in box.state.text(), timeout=20000)
    paths = write_series(tmp_path / "push", SeriesSpec(n_slices=4, modality="MR", patient_id="PUSHED-1"))
    series_uid = str(dcmread(paths[0]).SeriesInstanceUID)
    assert _push(paths, port, "MSRECV") == [0, 0, 0, 0]
    qtbot.waitUntil(lambda: "4 instances received, 4 indexed" in box.state.text(), timeout=20000)
    qtbot.waitUntil(lambda: viewer.browser.series_item(series_uid) is not None, timeout=20000)
    assert viewer.browser.series_item(series_uid).text(3) == "4"
    box.enabled.setChecked(False)
    qtbot.waitUntil(lambda: box.state.text().startswith("Off. 4 instances"), timeout=20000)
    assert _port_free(port)  # released (SO_REUSEADDR, as a listener binds: TIME_WAIT of the push may remain)
    with viewer.db.session() as s:
        assert "pacs.receive" in [e.action for e in s.exec(select(AuditEvent)).all()]
    dlg.close()


def test_a_taken_port_is_explained_and_the_box_unchecked(viewer, qtbot):  # noqa: F811
    from medstation.ui.viewer.pacs_dialog import open_pacs_dialog

    dlg = open_pacs_dialog(viewer)
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        dlg.listener_port.setValue(holder.getsockname()[1])
        dlg.receiver_box.enabled.setChecked(True)
        qtbot.waitUntil(lambda: "cannot listen" in dlg.receiver_box.state.text(), timeout=20000)
    assert not dlg.receiver_box.enabled.isChecked() and dlg.receiver_box.receiver is None
    dlg.close()
