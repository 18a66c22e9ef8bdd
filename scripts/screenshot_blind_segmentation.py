"""Screenshot of the viewer's blind choice: a box prompt on the sample CT, two unlabelled masks (under Xvfb).

Blind preference is switched on for segmentation; the embedded LiteMedSAM is active and a fine-tuned
LiteMedSAM checkpoint made by this app's training (``--seg-candidate``) is the candidate. A box is drawn
through the SliceView's own drag handler; the dialog is captured before anyone picks.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_blind_segmentation.py \\
        --seg-candidate /path/litemedsam-ft.pth [--onnx-cache /path/cache]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPLEEN_BOX = (322.0, 250.0, 410.0, 378.0)  # sample CT slice 10, pixels (x0, y0, x1, y1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seg-candidate", required=True, help="a fine-tuned LiteMedSAM .pth made by this app")
    parser.add_argument("--onnx-cache", default="", help="a cache dir whose onnx/ exports to reuse (optional)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "segmentation_blind_choice.png"))
    parser.add_argument("--slice", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="medstation_blind_seg_")) / "home"
    os.environ["MEDSTATION_HOME"] = str(home)
    os.environ.setdefault("MEDSTATION_KB_STARTER", "false")  # no knowledge-base ingestion competing for the CPU
    os.environ["MEDSTATION_BLIND_PREFERENCE_SEGMENTATION"] = "true"
    if args.onnx_cache:
        shutil.copytree(Path(args.onnx_cache) / "onnx", home / "cache" / "onnx", dirs_exist_ok=True)

    from PySide6.QtCore import Qt, QTimer

    from medstation.store.tables import ModelKind
    from medstation.ui.launch import open_workstation
    from medstation.ui.segmentation.panel import SegmentationPanel

    station = open_workstation(size=(1600, 1000))
    app, window = station.app, station.window
    target = station.services.settings.models_dir / "finetuned" / Path(args.seg_candidate).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(args.seg_candidate, target)
    station.services.registry.register(ModelKind.segmentation, "LiteMedSAM fine-tuned (decoder, 12 Kvasir images)",
                                       target, source="fine-tuned", meta={"engine": "litemedsam", "input_size": 256})
    window.select_tab("viewer")
    window.start()
    viewer = window.viewer_tab
    started = time.monotonic()
    state = {"step": "wait_volume"}

    def panel() -> SegmentationPanel | None:
        return next((w for w in viewer.findChildren(SegmentationPanel)), None)

    def shoot(dialog) -> None:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(out))
        print("saved", out, flush=True)
        dialog.neither.click()  # a choice ends the dialog; this one is only for the picture
        app.quit()

    def poll() -> None:
        p = panel()
        if time.monotonic() - started > args.timeout:
            print("timed out at step", state["step"], "|", p.status_label.text() if p else "", flush=True)
            app.quit()
            return
        if state["step"] == "wait_volume" and viewer.current_volume() is not None and p is not None:
            viewer.set_slice(args.slice)
            state["step"] = "wait_engine"
        elif state["step"] == "wait_engine" and p.service.engine() is not None and p.segmenter is not None:
            p.set_tool("seg_box")
            x0, y0, x1, y1 = SPLEEN_BOX
            viewer.axial_view.tool_drag((x0, y0), (x1, y1), Qt.MouseButton.LeftButton, True,
                                        Qt.KeyboardModifier.NoModifier)
            state["step"] = "wait_dialog"
        elif state["step"] == "wait_dialog" and p.candidates.dialog is not None and p.candidates.dialog.isVisible():
            QTimer.singleShot(800, lambda: shoot(p.candidates.dialog))
            return
        QTimer.singleShot(250, poll)

    QTimer.singleShot(500, poll)
    return station.exec()


if __name__ == "__main__":
    raise SystemExit(main())
