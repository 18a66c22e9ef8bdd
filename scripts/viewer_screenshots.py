"""Screenshots of the Viewer for the docs: the sample CT, MPR with a ruler and an ROI, a series preview.

    MEDSTATION_HOME=/tmp/shot_home xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python scripts/viewer_screenshots.py docs/screenshots

Builds the real main window on a temporary home, lets it index and open the
sample CT, then drives the viewer the way a user would (MPR on, crosshair,
lung window, ruler and ROI drawn through the SliceView tool handlers), then
clicks the series in the browser once so its preview (middle slice, facts) shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer


def main(out_dir: str) -> int:
    from medstation.ui.launch import open_workstation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    station = open_workstation(size=(1500, 900))
    app, window = station.app, station.window
    tab = window.viewer_tab

    def shoot_mpr() -> None:
        tab.set_mpr(True)
        app.processEvents()
        tab.set_crosshair((10, 250, 300))
        tab.apply_preset("ct_abdomen")
        view = tab.axial_view
        tab.set_tool("ruler")
        none = Qt.KeyboardModifier.NoModifier
        view.tool_drag((150.0, 300.0), (370.0, 300.0), Qt.MouseButton.LeftButton, True, none)
        tab.coronal_view.set_tool("roi")
        tab.coronal_view.tool_drag((230.0, 6.0), (290.0, 14.0), Qt.MouseButton.LeftButton, True, none)
        app.processEvents()
        QTimer.singleShot(800, lambda: (window.grab().save(str(out / "viewer_mpr.png")), shoot_preview()))

    def shoot_preview() -> None:
        tab.left_tabs.setCurrentIndex(0)
        item = tab.browser.series_item(tab.current_volume().series_uid)
        tab.browser.setCurrentItem(item)
        tab.browser.itemClicked.emit(item, 0)  # what a single click does

        def wait() -> None:
            panel = tab.series_preview
            if "Reading the middle slice" in panel.facts.text():
                QTimer.singleShot(300, wait)
                return
            QTimer.singleShot(500, lambda: (window.grab().save(str(out / "viewer_preview.png")), app.quit()))

        QTimer.singleShot(300, wait)

    def shoot_plain(_volume) -> None:
        QTimer.singleShot(800, lambda: (window.grab().save(str(out / "viewer.png")), QTimer.singleShot(100, shoot_mpr)))

    tab.sig_volume_loaded.connect(shoot_plain)
    window.start(None)
    QTimer.singleShot(240_000, app.quit)  # never hang a headless run
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
