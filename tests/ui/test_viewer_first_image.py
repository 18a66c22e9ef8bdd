"""Cold start (issue 22): a study's first slice is on screen before its whole volume is decoded, and a study
switched away from mid-decode never puts its slices on screen afterwards."""

from __future__ import annotations

import numpy as np

from medstation.imaging.synthetic import SeriesSpec, write_series
from tests.ui.viewer_fixtures import viewer  # noqa: F401  (fixture)


def _index(viewer, qtbot, folder):
    """Index ``folder`` without opening it; returns its series UID."""
    from medstation.jobs import JobContext

    report = viewer.imaging.index_job(JobContext(), [folder])
    viewer.refresh_catalog()
    return report.series_uids[0]


def test_sample_study_shows_a_slice_before_its_volume_is_complete(viewer, qtbot):
    from medstation.config import sample_study_dir

    uid = _index(viewer, qtbot, sample_study_dir())  # 20 JPEG 2000 frames: decoding takes a while
    events = []
    viewer.sig_preview_shown.connect(lambda series: events.append(("preview", series,
                                                                   viewer.axial_view.current_image() is not None)))
    viewer.sig_volume_loaded.connect(lambda volume: events.append(("volume", volume.series_uid, True)))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=60000):
        viewer.open_series(uid)
    assert events[0] == ("preview", uid, True)  # a slice of this study on screen first
    assert events[-1] == ("volume", uid, True) and [e[0] for e in events].count("volume") == 1
    assert viewer.current_volume().shape == (20, 512, 512)


def test_study_switched_mid_decode_never_shows_the_old_studys_slices(viewer, qtbot, tmp_path):
    from medstation.config import sample_study_dir

    slow = _index(viewer, qtbot, sample_study_dir())
    write_series(tmp_path / "small", SeriesSpec(n_slices=4, rows=24, columns=20, patient_id="P9"))
    small = _index(viewer, qtbot, tmp_path / "small")
    shown = []
    viewer.sig_preview_shown.connect(lambda series: shown.append(("preview", series)))
    viewer.sig_volume_loaded.connect(lambda volume: shown.append(("volume", volume.series_uid)))
    with qtbot.waitSignal(viewer.sig_preview_shown, timeout=60000):
        viewer.open_series(slow)  # the sample CT's first slice is on screen, its other frames still decoding
    assert viewer.current_volume() is None
    switched_at = len(shown)
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=30000):
        viewer.open_series(small)
        assert viewer.axial_view.current_image() is None  # the sample CT's slice is off the screen at once
    qtbot.wait(3000)  # the cancelled sample-CT job had time to finish its frames: none of it may arrive
    after = shown[switched_at:]
    assert after and all(series == small for _kind, series in after), after
    assert [kind for kind, _ in after].count("volume") == 1
    volume = viewer.current_volume()
    assert volume.series_uid == small and volume.shape == (4, 24, 20)
    assert viewer.axial_view.current_image().shape == (24, 20)  # the small study's slice, not a 512 × 512 one
    assert np.isfinite(viewer.axial_view.current_image()).all()


def test_switching_before_the_first_volume_takes_the_old_preview_off_screen(viewer, qtbot, tmp_path):
    """Fails on ea192aa: the sample CT's preview slice stayed on screen while the next study loaded."""
    from medstation.config import sample_study_dir

    slow = _index(viewer, qtbot, sample_study_dir())
    write_series(tmp_path / "small", SeriesSpec(n_slices=4, rows=24, columns=20, patient_id="P9"))
    small = _index(viewer, qtbot, tmp_path / "small")
    viewer.open_series(slow)
    qtbot.waitUntil(lambda: viewer.axial_view.current_image() is not None, timeout=60000)
    assert viewer.current_volume() is None and viewer.axial_view.current_image().shape == (512, 512)
    viewer.open_series(small)
    assert viewer.axial_view.current_image() is None
    qtbot.waitUntil(lambda: viewer.current_volume() is not None, timeout=30000)
    assert viewer.current_volume().series_uid == small and viewer.axial_view.current_image().shape == (24, 20)
