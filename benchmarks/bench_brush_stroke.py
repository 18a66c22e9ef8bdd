"""A brush stroke on a 200×512×512 CT: GUI-thread time per mouse move, and when the measurement shows.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_brush_stroke.py [--moves 120]
        [--baseline-code DIR]

Builds the segmentation panel on a real axial ``SliceView`` (a stand-in for the viewer tab,
the same contract the UI tests use), loads a synthetic 200×512×512 float32 CT volume, and
drives one stroke of ``--moves`` mouse moves through ``sig_brush`` (the signal the mouse
drives), processing events after each. Reported: the GUI-thread time per move (median,
p95, max) and the seconds from the end of the stroke until the panel shows the segment's
measurements. No model is loaded (the brush does not need one).

``--baseline-code DIR`` runs the same stroke first against another checkout (e.g. the
commit before the hot-path fix, unpacked with ``git archive``) in a child process and
prints both, measured in the same run, with the load average and CPU flags.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (200, 512, 512)


def _make_panel(viewer, runner, settings, db):
    """The panel on either constructor (explicit collaborators now; the old services bag before)."""
    from medstation.ui.segmentation import panel as panel_mod

    try:
        from medstation.access.roles import UserSession
        from medstation.store.model_registry import ModelRegistry
        from medstation.segmentation.service import SegmentationService

        service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
        service.ensure_engine = None  # never load the model here
        return panel_mod.SegmentationPanel(viewer, service, runner, session=None, exports_dir=settings.exports_dir,
                                           load_engine=False)
    except TypeError:  # the pre-fix constructor took the services bag
        from medstation.app import Services

        services = Services(settings=settings, db=db, extra={"segmentation": None})
        return panel_mod.SegmentationPanel(viewer, services, runner)


def run_stroke(moves: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="bench-brush-")
    import numpy as np
    from PySide6.QtCore import Signal
    from PySide6.QtWidgets import QApplication, QWidget

    from medstation.config import Settings
    from medstation.imaging.volume import Volume
    from medstation.access.encryption import open_database
    from medstation.ui.runner import JobRunner
    from medstation.ui.viewer.slice_view import SliceView

    app = QApplication.instance() or QApplication([])

    class Viewer(QWidget):
        sig_volume_loaded = Signal(object)
        sig_slice_changed = Signal(int)

        def __init__(self) -> None:
            super().__init__()
            self.axial_view = SliceView("axial", self)
            self.axial_view.sig_slice_changed.connect(self.sig_slice_changed)
            self._volume = None

        def current_volume(self):
            return self._volume

        def current_slice(self) -> int:
            return self.axial_view.index

        def set_slice(self, index: int) -> None:
            self.axial_view.set_index(index)

    settings = Settings()
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    runner = JobRunner()
    viewer = Viewer()
    viewer.resize(900, 900)
    viewer.show()
    panel = _make_panel(viewer, runner, settings, db)
    panel.show()
    rng = np.random.default_rng(0)
    pixels = rng.normal(40, 20, SHAPE).astype(np.float32)
    volume = Volume(pixels=pixels, spacing=(1.0, 0.7, 0.7), origin=(0.0, 0.0, 0.0), direction=np.eye(3),
                    modality="CT", series_uid="1.2.826.0.1.3680043.8.498.1", study_uid="1.2.3",
                    sop_uids=[f"1.2.3.{k}" for k in range(SHAPE[0])], source_paths=[], window=(40.0, 400.0))
    viewer._volume = volume
    viewer.axial_view.set_volume(volume, window=volume.window)
    viewer.sig_volume_loaded.emit(volume)
    for _ in range(20):
        app.processEvents()
    panel.set_tool("seg_brush")
    seg = panel.segments.segments[panel.current_key]
    times = []
    t_stroke = time.perf_counter()
    for i in range(moves):  # a diagonal stroke at a steady speed, 3 px per move
        x, y = 150.0 + 3 * i * 0.8, 150.0 + 3 * i * 0.6
        t0 = time.perf_counter()
        viewer.axial_view.sig_brush.emit(x, y, 6.0, False)
        app.processEvents()
        times.append(time.perf_counter() - t0)
    t_end = time.perf_counter()
    voxels = int(seg.mask.sum())
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # until the panel shows this segment's final measurements
        app.processEvents()
        m = panel.measurements
        if m is not None and m.voxel_count == voxels and not runner.active():
            break
        time.sleep(0.005)
    shown_s = time.perf_counter() - t_end
    runner.shutdown(60_000)
    db.close()
    ms = sorted(t * 1000 for t in times)
    return {"moves": moves, "median_ms": statistics.median(ms), "p95_ms": ms[int(0.95 * (len(ms) - 1))],
            "max_ms": ms[-1], "stroke_s": t_end - t_stroke, "measurement_shown_after_s": shown_s,
            "voxels": voxels}


def _child(code: Path, moves: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--moves", str(moves), "--json"],
                         env=env, cwd=str(code), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "?"
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
    return f"{model}; " + " ".join(f for f in flags if f.startswith(("avx", "sse4", "fma")))


def _line(name: str, r: dict) -> str:
    return (f"{name:9s} per move: median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, max {r['max_ms']:.1f} ms "
            f"over {r['moves']} moves ({r['stroke_s']:.2f} s); measurements shown {r['measurement_shown_after_s']:.2f} s "
            f"after the stroke ({r['voxels']} voxels)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=120, help="mouse moves in the stroke")
    parser.add_argument("--baseline-code", type=Path, default=None,
                        help="another checkout to measure first as the baseline (e.g. the pre-fix commit)")
    parser.add_argument("--json", action="store_true", help="print one JSON line (used for the child runs)")
    args = parser.parse_args(argv)
    if args.json:
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0])
        print(json.dumps(run_stroke(args.moves)))
        return 0
    print(f"volume {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} float32; CPU {_cpu_flags()}")
    if args.baseline_code is not None:
        print(_line("baseline", _child(args.baseline_code, args.moves)) + f"   [{args.baseline_code}]")
    print(_line("this", _child(ROOT, args.moves)) + f"   [{ROOT}]")
    print("load average:", Path("/proc/loadavg").read_text().strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
