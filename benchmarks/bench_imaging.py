"""Imaging benchmark: indexing, first slice, full volume load and slice-scroll frame rate,
each beside a plain SimpleITK baseline measured in the same run.

    .venv/bin/python benchmarks/bench_imaging.py [--slices 200] [--size 512] [--repeats 3] [--series DIR]

Builds a synthetic series (int16, uncompressed) in a temporary folder unless
``--series`` names a folder. Timings are the median of ``--repeats`` runs with
warm file caches (both readers see the same cache state). Prints a table and
PASS/FAIL against the targets: first slice < 0.5 s, full load < 5 s,
scroll >= 60 fps, load >= 2x faster than SimpleITK's ImageSeriesReader.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_index(folder: Path, files: list[Path], db) -> tuple[float, float]:
    """(ours, SimpleITK/GDCM) seconds per file for a header-only scan of the folder."""
    import SimpleITK as sitk

    from medstation.imaging.indexer import index_paths
    from medstation.jobs import JobContext

    t0 = time.perf_counter()
    index_paths(JobContext(), db, [folder])
    ours = (time.perf_counter() - t0) / len(files)
    t0 = time.perf_counter()
    reader = sitk.ImageFileReader()
    for f in files:
        reader.SetFileName(str(f))
        reader.ReadImageInformation()
    baseline = (time.perf_counter() - t0) / len(files)
    return ours, baseline


def _timed_load(fn):
    """Run a load job; returns (seconds to the first image streamed, total seconds, volume)."""
    from medstation.jobs import JobContext

    t0 = time.perf_counter()
    first = []
    ctx = JobContext(on_partial=lambda obj: first.append(time.perf_counter() - t0) if not first else None)
    volume = fn(ctx)
    return first[0], time.perf_counter() - t0, volume


def bench_load(files: list[Path], folder: Path, db, repeats: int) -> dict:
    """Median seconds of: our loader from files, our loader through the index, and SimpleITK.

    The runs alternate (ours, indexed, SimpleITK, ours, ...) so machine load hits all alike.
    """
    import SimpleITK as sitk

    from medstation.imaging.catalog import series_load_inputs
    from medstation.imaging.loader import load_series
    from medstation.store.tables import Series
    from sqlmodel import select

    with db.session() as s:
        uid = s.exec(select(Series)).first().series_uid

    def indexed(ctx):
        paths, cache = series_load_inputs(db, uid)  # what ImagingService.load_series_job does
        return load_series(ctx, paths, series_uid=uid, cache=cache)

    def sitk_full():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        return sitk.GetArrayFromImage(reader.Execute())

    def sitk_first():
        # The baseline's first slice: sort the series (GDCM reads every header), then read one file.
        names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))
        return sitk.GetArrayFromImage(sitk.ReadImage(names[len(names) // 2]))

    runs = {"direct": [], "indexed": [], "sitk_first": [], "sitk_full": []}
    volume = None
    for _ in range(repeats):
        # Keep only timings: holding every volume would make each run pay for fresh memory pages.
        volume = None
        first, full, _vol = _timed_load(lambda ctx: load_series(ctx, files))
        runs["direct"].append((first, full))
        del _vol
        first, full, volume = _timed_load(indexed)
        runs["indexed"].append((first, full))
        runs["sitk_first"].append(_median_time(sitk_first, 1)[0])
        array = None
        t, array = _median_time(sitk_full, 1)
        runs["sitk_full"].append(t)
    assert array.shape == volume.shape, (array.shape, volume.shape)
    out = {
        "direct_first": statistics.median(r[0] for r in runs["direct"]),
        "direct_full": statistics.median(r[1] for r in runs["direct"]),
        "indexed_first": statistics.median(r[0] for r in runs["indexed"]),
        "indexed_full": statistics.median(r[1] for r in runs["indexed"]),
        "sitk_first": statistics.median(runs["sitk_first"]),
        "sitk_full": statistics.median(runs["sitk_full"]),
        "volume": volume,
    }
    return out


def bench_scroll(volume, frames: int = 200) -> tuple[float, float]:
    """(ours, baseline) frames per second rendering successive slices in an offscreen ImageItem.

    Ours: the SliceView (pyqtgraph ImageItem + window levels + overlay). Baseline: a bare ImageItem
    fed the same float32 slices with explicit levels (what any pyqtgraph viewer must at least pay).
    """
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from medstation.ui.viewer.slice_view import SliceView

    app = QApplication.instance() or QApplication([])
    view = SliceView("axial")
    view.resize(700, 700)
    view.show()
    view.set_volume(volume, window=(40.0, 400.0))
    app.processEvents()
    n = volume.shape[0]
    t0 = time.perf_counter()
    for i in range(frames):
        view.set_index(i % n if i % n != view.index else (i + 1) % n)
        view.graphics_view.viewport().repaint()
    ours = frames / (time.perf_counter() - t0)

    gv = pg.GraphicsView()
    vb = pg.ViewBox(lockAspect=True)
    gv.setCentralItem(vb)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    gv.resize(700, 700)
    gv.show()
    app.processEvents()
    t0 = time.perf_counter()
    for i in range(frames):
        item.setImage(volume.pixels[i % n], autoLevels=False, levels=(-160.0, 240.0))
        gv.viewport().repaint()
    baseline = frames / (time.perf_counter() - t0)
    view.close()
    gv.close()
    return ours, baseline


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--series", help="benchmark this DICOM folder instead of a synthetic series")
    args = parser.parse_args(argv)

    import warnings

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        if args.series:
            folder = Path(args.series)
            from medstation.imaging.indexer import read_header

            # Only the DICOM files (a real folder also holds licences, READMEs...): both readers get the same set.
            files = sorted(p for p in folder.iterdir() if p.is_file() and read_header(p)[0] is not None)
        else:
            from medstation.imaging.synthetic import SeriesSpec, write_series

            folder = Path(tmp) / "series"
            print(f"writing {args.slices} synthetic {args.size}x{args.size} slices…", file=sys.stderr)
            files = write_series(folder, SeriesSpec(n_slices=args.slices, rows=args.size, columns=args.size))
        for f in files:  # warm the page cache once for both readers
            f.read_bytes()
        from medstation.store.database import Database

        db = Database(Path(tmp) / "bench.db")
        index_ours, index_base = bench_index(folder, files, db)
        r = bench_load(files, folder, db, args.repeats)
        volume = r["volume"]
        fps, fps_base = bench_scroll(volume)
        db.close()

    n = volume.shape[0]
    rows = [
        ("header index, ms/file", index_ours * 1e3, index_base * 1e3, None),
        ("first image (indexed), s", r["indexed_first"], r["sitk_first"], r["indexed_first"] < 0.5),
        ("first image (files), s", r["direct_first"], r["sitk_first"], r["direct_first"] < 0.5),
        (f"full {n}-slice (indexed), s", r["indexed_full"], r["sitk_full"], r["indexed_full"] < 5.0 and r["sitk_full"] / r["indexed_full"] >= 2.0),
        (f"full {n}-slice (files), s", r["direct_full"], r["sitk_full"], r["direct_full"] < 5.0 and r["sitk_full"] / r["direct_full"] >= 2.0),
        ("scroll, frames/s", fps, fps_base, fps >= 60.0),
    ]
    print(f"\n{'measure':<30}{'MedStation':>12}{'baseline':>12}   verdict")
    for name, ours, base, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<30}{ours:>12.3f}{base:>12.3f}   {verdict}")
    print(
        f"\nspeed-up vs SimpleITK ImageSeriesReader: indexed {r['sitk_full'] / r['indexed_full']:.2f}x, "
        f"from files {r['sitk_full'] / r['direct_full']:.2f}x (target >= 2x); cpu count {os.cpu_count()}"
    )
    print("'first image' = first decoded slice streamed to the viewer (for files: the first file read,")
    print("  shown while the other headers are read; indexed: the middle slice of the ordered stack).")
    print("'indexed' = opening a series from the browser (geometry and pixel offsets from the index);")
    print("'files' = loading files never indexed (every header parsed).")
    print("baselines: SimpleITK ImageFileReader.ReadImageInformation (index), GetGDCMSeriesFileNames+ReadImage "
          "(first slice), ImageSeriesReader (full), bare pyqtgraph ImageItem (scroll)")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
