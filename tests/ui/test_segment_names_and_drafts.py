"""A segment's name is kept whenever it changes (after Accept too) and reaches later exports; drafts leave
marked DRAFT and only after a question. The rename test failed on 1c99c71 ("Segment 1" after a restart)."""

from __future__ import annotations

import json

import pydicom
from PySide6.QtWidgets import QMessageBox

from medstation.segmentation.export import read_nifti_labels
from medstation.segmentation.segments import SegmentStatus
from tests.ui.test_segments_kept import _paint, _station, station  # noqa: F401  (station: the fixture)


def _rename_in_list(panel, key, name):
    """What a double-click edit does: the list item's text changes."""
    from PySide6.QtCore import Qt

    for row in range(panel.segment_list.count()):
        item = panel.segment_list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == key:
            item.setText(name)
            return
    raise AssertionError(f"segment {key} is not listed")


def _export(qtbot, panel, kind, path):
    handle = panel.export_segments(kind, str(path))
    assert handle is not None
    with qtbot.waitSignal(handle.sig_done, timeout=30000):
        pass
    return path


def test_rename_after_accept_survives_a_restart_and_reaches_the_dicom_seg(station, qtbot, tmp_path):
    tab, panel, runner = station
    _paint(tab, panel)
    handle = panel.decide("accepted")
    with qtbot.waitSignal(handle.sig_done, timeout=20000):
        pass
    seg = panel.segments.segments[panel.current_key]
    _rename_in_list(panel, seg.key, "Spleen")
    assert seg.name == "Spleen" and seg.status == SegmentStatus.accepted  # a name is not an edit of the mask
    qtbot.waitUntil(lambda: "saved" in panel.status_label.text() and not runner.active("io"), timeout=10000)

    services, runner2, tab2, panel2 = _station(qtbot)  # a restart: new window and services, same home
    try:
        with qtbot.waitSignal(tab2.sig_volume_loaded, timeout=20000):
            tab2.open_paths([tmp_path / "data" / "ct"])
        qtbot.waitUntil(lambda: panel2.segments is not None and panel2.segments.stored_ids() == {seg.stored_id},
                        timeout=10000)
        [reloaded] = panel2.segments.segments.values()
        assert reloaded.name == "Spleen" and reloaded.status == SegmentStatus.accepted
        path = _export(qtbot, panel2, "dicom_seg", tmp_path / "out" / "seg.dcm")
        ds = pydicom.dcmread(path)
        [described] = ds.SegmentSequence
        assert described.SegmentLabel == "Spleen"
        assert "DRAFT" not in str(described.get("SegmentDescription", "")) and "DRAFT" not in ds.SeriesDescription
    finally:
        runner2.shutdown()
        services.close()


def test_exporting_drafts_asks_first_and_marks_them(station, qtbot, tmp_path, monkeypatch, non_blocking_message_boxes):
    from medstation.segmentation.export import sidecar_path

    tab, panel, _runner = station
    _paint(tab, panel)
    _rename_in_list(panel, panel.current_key, "Liver")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert panel.export_segments("nifti", str(tmp_path / "no.nii.gz")) is None  # declined: nothing written
    assert not (tmp_path / "no.nii.gz").exists() and "cancelled" in panel.status_label.text()

    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: asked.append(text) or QMessageBox.StandardButton.Yes)
    nifti = _export(qtbot, panel, "nifti", tmp_path / "labels.nii.gz")
    assert asked and "Liver" in asked[0] and "draft" in asked[0]
    sidecar = json.loads(sidecar_path(nifti).read_text())
    assert sidecar["labels"] == [{"value": 1, "name": "Liver", "status": "draft", "algorithm": "manual",
                                  "algorithm_version": ""}] and sidecar["drafts"] == ["Liver"]
    assert read_nifti_labels(nifti)[0].max() == 1

    seg_path = _export(qtbot, panel, "dicom_seg", tmp_path / "draft_seg.dcm")
    ds = pydicom.dcmread(seg_path)
    assert ds.SegmentSequence[0].SegmentLabel == "Liver" and "DRAFT" in ds.SegmentSequence[0].SegmentDescription
    assert "DRAFT" in ds.SeriesDescription and "Exported to" in panel.status_label.text()
