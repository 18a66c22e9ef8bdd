"""Screenshot of a MedSAM box prompt on the sample CT with its measurements (run under Xvfb).

Builds the main window on a temporary MEDSTATION_HOME, lets the viewer open the
bundled sample CT, moves to the prompt slice, draws a box through the axial
SliceView's own drag handler, waits for the real LiteMedSAM mask and its measurement
table, and saves the window as a PNG.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_segmentation.py \\
        --out docs/screenshots/segmentation.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPLEEN_BOX = (322.0, 250.0, 410.0, 378.0)  # sample CT slice 10, pixels (x0, y0, x1, y1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "segmentation.png"))
    parser.add_argument("--slice", type=int, default=10)
    parser.add_argument("--box", nargs=4, type=float, default=SPLEEN_BOX)
    parser.add_argument("--name", default="spleen")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--live-out", default=None, help="also save the live preview shown while the box is dragged")
    args = parser.parse_args(argv)
    os.environ["MEDSTATION_HOME"] = os.environ.get("MEDSTATION_SHOT_HOME") or tempfile.mkdtemp(prefix="seg_shot_")

    from PySide6.QtCore import Qt, QTimer
    from medstation.ui.launch import open_workstation
    from medstation.ui.segmentation.panel import LIVE_KEY, SegmentationPanel

    station = open_workstation()
    app, window = station.app, station.window
    window.select_tab("viewer")
    window.start()
    viewer = window.viewer_tab
    started = time.monotonic()
    state = {"step": "wait_volume"}

    def panel() -> SegmentationPanel | None:
        return next((w for w in viewer.findChildren(SegmentationPanel)), None)

    def shoot() -> None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(args.out)
        print("saved", args.out, "|", panel().report_label.text() if panel() else "", flush=True)
        app.quit()

    def poll() -> None:
        p = panel()
        if time.monotonic() - started > args.timeout:
            print("timed out at step", state["step"], flush=True)
            shoot()
            return
        if state["step"] == "wait_volume" and viewer.current_volume() is not None and p is not None:
            viewer.set_slice(args.slice)
            viewer.side_tabs.setCurrentWidget(p) if hasattr(viewer, "side_tabs") else None
            state["step"] = "wait_engine"
        elif state["step"] == "wait_engine" and p.service.engine() is not None and p.segmenter is not None:
            p.segments.rename(p.current_key, args.name)
            p.set_tool("seg_box")
            x0, y0, x1, y1 = args.box
            view = viewer.axial_view
            # the same calls a mouse drag makes: a live preview while dragging, the final box on release
            view.tool_drag((x0, y0), (x1 - (x1 - x0) / 4, y1 - (y1 - y0) / 4), Qt.MouseButton.LeftButton, False,
                           Qt.KeyboardModifier.NoModifier)
            state["step"] = "wait_live" if args.live_out else "release"
        elif state["step"] == "wait_live" and LIVE_KEY in viewer.axial_view.mask_keys():
            window.grab().save(args.live_out)  # mid-drag: the box outline and the yellow live mask
            print("saved", args.live_out, flush=True)
            state["step"] = "release"
        elif state["step"] == "release":
            x0, y0, x1, y1 = args.box
            viewer.axial_view.tool_drag((x0, y0), (x1, y1), Qt.MouseButton.LeftButton, True,
                                        Qt.KeyboardModifier.NoModifier)
            state["step"] = "wait_mask"
        elif state["step"] == "wait_mask" and p.segments.segments[p.current_key].mask[args.slice].any():
            state["step"] = "wait_table"
        elif state["step"] == "wait_table" and p.table.rowCount() > 0:
            QTimer.singleShot(800, shoot)
            return
        QTimer.singleShot(250, poll)

    QTimer.singleShot(500, poll)
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
