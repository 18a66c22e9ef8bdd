"""Segment measurement benchmark: ``measure()`` beside the whole-volume-float64 way it used to work.

    .venv/bin/python benchmarks/bench_measure.py [--slices 200] [--size 512] [--repeats 5]

Builds a float32 CT-like volume (slices x size x size, 2 x 0.7 x 0.7 mm) with a
spherical segment (``--radius-mm``, default 15), then times, in the same run on
the same data:

* before: ``measure()`` as it was (whole volume widened to float64, then the mask's voxels);
* after: ``medstation.segmentation.measure.measure`` (selects the voxels, then widens them).

Prints the median of ``--repeats`` runs, the speed-up, the CPU model/flags and
the load average (other work on the machine slows both alike).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags"))
        simd = [f for f in ("sse4_2", "avx", "avx2", "avx512f", "fma") if f in flags]
        return f"{model}; {' '.join(simd)}"
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def old_measure(mask3d, volume):
    """``measure()`` as it was: the whole volume widened to float64 (a copy), then the mask's voxels."""
    from medstation.segmentation.measure import feret_diameters

    mask = np.asarray(mask3d, bool)
    count = int(mask.sum())
    dz, dy, dx = (float(s) for s in volume.spacing)
    per_slice = mask.reshape(mask.shape[0], -1).sum(axis=1)
    areas = {int(k): float(per_slice[k] * dy * dx) for k in np.flatnonzero(per_slice)}
    values = np.asarray(volume.pixels, np.float64)[mask]
    axis_slice = int(np.argmax(per_slice))
    long_mm, short_mm, _ = feret_diameters(mask[axis_slice], (dy, dx))
    return count, areas, values.mean(), values.std(), values.min(), values.max(), long_mm, short_mm


def main() -> int:
    from medstation.imaging.volume import Volume
    from medstation.segmentation.measure import measure

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=200, help="number of slices (z)")
    ap.add_argument("--size", type=int, default=512, help="rows = columns per slice")
    ap.add_argument("--radius-mm", type=float, default=15.0, help="radius of the spherical segment in mm")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per variant (median reported)")
    args = ap.parse_args()

    shape = (args.slices, args.size, args.size)
    rng = np.random.default_rng(0)
    pixels = rng.normal(40.0, 20.0, shape).astype(np.float32)
    spacing = (2.0, 0.7, 0.7)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    c = [n // 2 for n in shape]
    mask = (((z - c[0]) * spacing[0]) ** 2 + ((y - c[1]) * spacing[1]) ** 2 + ((x - c[2]) * spacing[2]) ** 2
            <= args.radius_mm ** 2).astype(np.uint8)
    volume = Volume(pixels=pixels, spacing=spacing, origin=(0.0, 0.0, 0.0), direction=np.eye(3), modality="CT",
                    series_uid="bench", study_uid="bench", sop_uids=[], source_paths=[])

    m = measure(mask, volume)  # warm-up (imports scipy) and a check that both give the same numbers
    ref = old_measure(mask, volume)
    assert ref[0] == m.voxel_count and abs(ref[2] - m.mean) < 1e-9 and abs(ref[3] - m.sd) < 1e-9

    t_old = _median(lambda: old_measure(mask, volume), args.repeats)
    t_new = _median(lambda: measure(mask, volume), args.repeats)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"volume {shape} float32, spherical segment of {m.voxel_count} voxels ({m.volume_ml:.1f} mL); "
          f"median of {args.repeats} runs")
    print(f"CPU: {_cpu()}; load average {load}")
    print(f"measure() before (whole volume -> float64, then select): {t_old * 1000:8.1f} ms")
    print(f"measure() after  (select, then float64):                 {t_new * 1000:8.1f} ms   x{t_old / t_new:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
