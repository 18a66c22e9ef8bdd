"""`medstation pacs listen`: a modality pushes a series by C-STORE; it is indexed while the listener runs."""

from __future__ import annotations

import threading
import time

import pydicom
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from medstation.cli import main
from medstation.imaging.catalog import catalog
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.store.database import Database
from tests.orthanc_support import free_port


def test_listen_indexes_a_pushed_series(tmp_path, settings, capsys):
    paths = write_series(tmp_path / "push", SeriesSpec(n_slices=4, rows=16, columns=20))
    port = free_port()
    exit_code = {}
    worker = threading.Thread(target=lambda: exit_code.update(rc=main(
        ["pacs", "listen", "--port", str(port), "--ae-title", "WORKSTATION", "--bind", "127.0.0.1", "--seconds", "6"])))
    worker.start()
    ae = AE(ae_title="MODALITY")
    ae.add_requested_context(CTImageStorage)
    for _ in range(50):  # the listener starts with the command (imports, database): wait for it
        assoc = ae.associate("127.0.0.1", port, ae_title="WORKSTATION")
        if assoc.is_established:
            break
        time.sleep(0.1)
    statuses = [assoc.send_c_store(pydicom.dcmread(p)).Status for p in paths]
    assoc.release()
    worker.join(30)
    assert statuses == [0, 0, 0, 0] and exit_code["rc"] == 0
    assert "received 4 instances" in capsys.readouterr().out
    db = Database(settings.db_path)
    try:
        assert [se.n_instances for p in catalog(db) for st in p.studies for se in st.series] == [4]
    finally:
        db.close()
    assert len(list((settings.home / "pacs" / "received").rglob("*.dcm"))) == 4


def test_listen_on_a_busy_port_says_so(capsys):
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        assert main(["pacs", "listen", "--port", str(busy.getsockname()[1]), "--bind", "127.0.0.1",
                     "--seconds", "2"]) == 2
    finally:
        busy.close()
    assert "holds the port" in capsys.readouterr().err
