"""The same UID-less images opened from another folder find their accepted segments (issue 20, item 3).

On 1c99c71 a blank-UID series' identity was derived from its folder, so a copy in another folder was a
different series and its segments never reloaded."""

from __future__ import annotations

import shutil

import pydicom

from medstation.imaging.synthetic import write_series
from medstation.segmentation.segments import SegmentStatus
from tests.ui.test_segments_kept import BIG, _paint, _station


def _strip_uids(folder) -> None:
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
            setattr(ds, keyword, "")
        ds.file_meta.MediaStorageSOPInstanceUID = ""
        ds.save_as(path)


def test_segments_accepted_on_one_copy_reload_on_a_copy_in_another_folder(qtbot, tmp_path):
    first = tmp_path / "usb" / "ct"
    write_series(first, BIG)
    _strip_uids(first)
    services, runner, tab, panel = _station(qtbot)
    try:
        with qtbot.waitSignal(tab.sig_volume_loaded, timeout=20000):
            tab.open_paths([first])
        qtbot.waitUntil(lambda: not runner.active("io") and panel.segments is not None, timeout=10000)
        _paint(tab, panel)
        handle = panel.decide("accepted")
        with qtbot.waitSignal(handle.sig_done, timeout=20000):
            pass
        saved = panel.segments.segments[panel.current_key]
        uid = panel.segments.series_uid
    finally:
        runner.shutdown()
        services.close()

    second = tmp_path / "archive" / "2026" / "copy-of-ct"
    shutil.copytree(first, second)
    services2, runner2, tab2, panel2 = _station(qtbot)  # another session, the copy in another folder
    try:
        with qtbot.waitSignal(tab2.sig_volume_loaded, timeout=20000):
            tab2.open_paths([second])
        qtbot.waitUntil(lambda: panel2.segments is not None and panel2.segments.stored_ids() == {saved.stored_id},
                        timeout=10000)
        [reloaded] = panel2.segments.segments.values()
        assert reloaded.status == SegmentStatus.accepted and panel2.segments.series_uid == uid
    finally:
        runner2.shutdown()
        services2.close()
