"""Screenshots of work that is kept: several measurements on a slice, and segments kept across a series switch.

    MEDSTATION_HOME=/tmp/shot_home xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python scripts/screenshot_viewer_work.py docs/screenshots

Builds the real main window on a temporary home with the sample CT plus a small
synthetic MR series, then drives the viewer through the same tool handlers the
mouse uses: rulers, ROIs and an angle on one slice (``viewer_measurements.png``);
two brushed segments on the CT, a switch to the MR (``segments_switched_away.png``)
and back (``segments_switched_back.png``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def main(out_dir: str) -> int:
    from medstation.imaging.synthetic import SeriesSpec, write_series
    from medstation.ui.launch import open_workstation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mr_folder = Path(tempfile.mkdtemp(prefix="shot-mr-"))
    write_series(mr_folder, SeriesSpec(n_slices=12, rows=192, columns=192, pixel_spacing=(1.2, 1.2), modality="MR",
                                       patient_name="Roe^Rick", patient_id="P2", series_description="Synthetic MR"))
    station = open_workstation(size=(1500, 900))
    app, window = station.app, station.window
    tab = window.viewer_tab
    panel = window.segmentation_panel
    state = {"ct": None, "mr": None}

    def later(ms, fn):
        QTimer.singleShot(ms, fn)

    def measurements() -> None:
        view = tab.axial_view
        tab.set_slice(10)
        tab.apply_preset("ct_abdomen")
        tab.set_tool("ruler")
        view.tool_drag((150.0, 300.0), (370.0, 300.0), LEFT, True, NONE)
        view.tool_drag((250.0, 200.0), (250.0, 420.0), LEFT, True, NONE)
        tab.set_tool("roi")
        view.tool_drag((300.0, 330.0), (345.0, 370.0), LEFT, True, NONE)
        view.tool_drag((120.0, 250.0), (170.0, 290.0), LEFT, True, NONE)
        view.tool_drag((440.0, 60.0), (500.0, 110.0), LEFT, True, NONE)  # near the corner: label stays inside
        tab.set_tool("angle")
        for point in ((180.0, 400.0), (250.0, 440.0), (330.0, 400.0)):
            view.tool_click(point, LEFT, NONE)
        tab.left_tabs.setCurrentWidget(tab.measurement_list)
        tab.set_tool("navigate")
        app.processEvents()
        later(800, lambda: (window.grab().save(str(out / "viewer_measurements.png")), later(100, segments)))

    def segments() -> None:
        tab.left_tabs.setCurrentIndex(0)
        panel.set_tool("seg_brush")
        panel.set_brush_radius(9)
        view = tab.axial_view
        for i in range(16):  # liver, lower part
            view.sig_brush.emit(140.0 + 4 * i, 320.0 + 1.5 * i, 9.0, False)
        panel.add_segment()
        for i in range(12):  # spleen side
            view.sig_brush.emit(395.0 + 2 * i, 300.0 + 3 * i, 9.0, False)
        app.processEvents()
        tab.sig_volume_loaded.connect(on_loaded)
        later(600, lambda: tab.open_series(state["mr"]))

    def on_loaded(volume) -> None:
        if volume.series_uid == state["mr"]:
            tab.apply_preset("auto")
            later(900, lambda: (window.grab().save(str(out / "segments_switched_away.png")),
                                tab.open_series(state["ct"])))
        elif volume.series_uid == state["ct"]:
            later(900, lambda: (tab.set_slice(10), later(500, finish)))

    def finish() -> None:
        window.grab().save(str(out / "segments_switched_back.png"))
        for key, seg in list(panel.workspace.get(state["ct"]).segments.items()):
            seg.status = type(seg.status)("rejected")  # let the window close without the unsaved-work question
        app.quit()

    def start_sequence(volume) -> None:
        # sample CT opens first; then the MR is indexed (and opens); then back to the CT to work on it
        if state["ct"] is None and volume.modality == "CT":
            state["ct"] = volume.series_uid
            later(300, lambda: tab.open_paths([mr_folder]))
        elif state["mr"] is None and volume.modality == "MR":
            state["mr"] = volume.series_uid
            later(300, lambda: tab.open_series(state["ct"]))
        elif state["mr"] is not None and volume.modality == "CT":
            tab.sig_volume_loaded.disconnect(start_sequence)
            later(1500, measurements)

    tab.sig_volume_loaded.connect(start_sequence)
    window.start(None)
    QTimer.singleShot(120_000, app.quit)  # never hang a headless run
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
