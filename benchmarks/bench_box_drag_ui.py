"""A box drag in the real viewer: masks shown per second and the longest GUI stall.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_box_drag_ui.py [--seconds 4] [--hz 60]

Builds the main window exactly as ``medstation`` does (temporary MEDSTATION_HOME), opens
the bundled sample CT, waits until slice 10 is embedded, then moves a box corner at
``--hz`` mouse events per second for ``--seconds`` through the same signal the mouse
drives (``sig_box_changed``), and releases it (``sig_box_drawn``). A heartbeat timer
records the largest gap in the GUI event loop, so a blocked GUI thread shows as a
stall. Reported beside the same drag with live updates switched off (the GUI alone),
measured in the same run.
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

START_BOX = (248.0, 280.0, 284.0, 316.0)  # sample CT slice 10 (x0, y0, x1, y1)
SLICE = 10


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--hz", type=float, default=60.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="bench-drag-")

    from PySide6.QtCore import QElapsedTimer, QTimer

    from medstation.ui.launch import open_workstation
    from medstation.ui.segmentation.panel import LIVE_KEY, SegmentationPanel

    station = open_workstation()
    app, services, window = station.app, station.services, station.window

    def wait_until(predicate, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("the workstation did not get ready in time")
            app.processEvents()
            time.sleep(0.01)

    viewer = window.viewer_tab
    window.start(None)
    wait_until(lambda: viewer.current_volume() is not None, 300)
    panel = viewer.findChild(SegmentationPanel)
    wait_until(lambda: "ready" in panel.engine_label.text(), 600)
    viewer.set_slice(SLICE)
    panel.set_tool("seg_box")
    wait_until(lambda: panel.segmenter is not None and panel.segmenter.has_embedding(SLICE), 120)
    wait_until(lambda: panel._precompute_handle is None or panel._precompute_handle.finished, 120)

    shown: list[float] = []
    original = panel.view.set_mask_overlay

    def counting(key, mask, *rest, **kw):
        if key == LIVE_KEY and mask is not None:
            shown.append(time.perf_counter())
        return original(key, mask, *rest, **kw)

    panel.view.set_mask_overlay = counting

    def drag(live: bool) -> dict:
        shown.clear()
        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [0.0]

        def beat():
            now = clock.nsecsElapsed() / 1e6
            gaps.append(now - last[0])
            last[0] = now

        heartbeat = QTimer()
        heartbeat.setInterval(5)
        heartbeat.timeout.connect(beat)
        heartbeat.start()
        steps = int(args.seconds * args.hz)
        x0, y0, x1, y1 = START_BOX
        start = time.perf_counter()
        for i in range(steps):
            box = (x0, y0, x1 + 0.5 * i, y1 + 0.4 * i)
            if live:
                panel.view.sig_box_changed.emit(*box)
            target = start + (i + 1) / args.hz
            while time.perf_counter() < target:  # the event loop runs between mouse events, as in a real drag
                app.processEvents()
                time.sleep(0.001)
        end = time.perf_counter()
        heartbeat.stop()
        return {"masks_per_s": len(shown) / (end - start), "max_gap_ms": max(gaps[1:] or [0.0]),
                "p99_gap_ms": sorted(gaps[1:])[int(0.99 * (len(gaps) - 2))] if len(gaps) > 2 else 0.0}

    idle = drag(live=False)
    live = drag(live=True)
    release = time.perf_counter()
    panel.view.sig_box_drawn.emit(*START_BOX)
    wait_until(lambda: panel.last_prediction is not None, 60)
    release_ms = (time.perf_counter() - release) * 1000
    print(f"box drag at {args.hz:.0f} mouse events/s for {args.seconds:.0f} s on a cached 512x512 slice "
          f"(segmentation lane, {services.settings.seg_threads} threads)")
    print(f"  live masks shown: {live['masks_per_s']:.1f} per second")
    print(f"  GUI heartbeat (5 ms timer) longest gap: {live['max_gap_ms']:.1f} ms during the drag, "
          f"{idle['max_gap_ms']:.1f} ms for the same drag without segmentation (p99 {live['p99_gap_ms']:.1f} / "
          f"{idle['p99_gap_ms']:.1f} ms)")
    print(f"  mask after release (accepted as the slice's draft): {release_ms:.0f} ms, {int(panel.last_prediction.mask.sum())} px")
    station.close(timeout_ms=60_000)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
