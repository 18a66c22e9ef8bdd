"""Shared builders for the viewer tests: a ViewerTab on real services and small synthetic series."""

from __future__ import annotations

import pytest

from medstation.imaging.synthetic import SeriesSpec, write_series

SPEC = SeriesSpec(n_slices=6, rows=32, columns=40, pixel_spacing=(0.8, 0.6), slice_step=2.5)


@pytest.fixture
def viewer(qtbot, medstation_home):
    from medstation.app import build_services
    from medstation.config import Settings
    from medstation.ui.runner import JobRunner
    from medstation.ui.viewer.tab import ViewerTab

    services = build_services(Settings(sample_study=False))
    runner = JobRunner()
    tab = ViewerTab(imaging=services.imaging, settings=services.settings, runner=runner, db=services.db,
                    session=services.session)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    yield tab
    runner.shutdown()
    services.close()


@pytest.fixture
def loaded(viewer, qtbot, tmp_path):
    """The viewer with SPEC (6 slices) loaded, plus a smaller MR series indexed beside it."""
    write_series(tmp_path / "data" / "ct", SPEC)
    write_series(tmp_path / "data" / "mr", SeriesSpec(n_slices=3, modality="MR", patient_name="Roe^Rick", patient_id="P2"))
    with qtbot.waitSignal(viewer.sig_volume_loaded, timeout=20000):
        viewer.open_paths([tmp_path / "data"])
    return viewer
