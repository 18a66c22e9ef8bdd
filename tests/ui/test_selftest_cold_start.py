"""``medstation --self-test --cold-start``: only the window and the sample study, timed from launch, with the
first slice on screen no later than the whole volume; ``--data-folder`` keeps the folder for a second start."""

from __future__ import annotations


def test_cold_start_steps_time_the_first_image_and_the_volume(qtbot, medstation_home, tmp_path):
    from medstation.ui.selftest import run_self_test

    folder = tmp_path / "data"
    for launch in ("first", "again"):  # again: the store exists and the sample study is indexed
        report = run_self_test(cold_start_only=True, data_folder=folder)
        assert report["ok"], (launch, report)
        assert [s["name"] for s in report["steps"]] == ["window", "sample_study"]
        study = report["steps"][1]
        assert study["shape"] == [20, 512, 512]
        assert 0 < study["first_image_since_launch_s"] <= study["since_launch_s"]
        assert (folder / "medstation.db").is_file()  # kept, not the temporary folder of a full self-test
