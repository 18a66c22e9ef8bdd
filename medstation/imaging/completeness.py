"""Was a series opened whole? Files of the same series lying next to the opened ones, but not opened.

Opening a handful of files ("Open files…") gives a volume of just those slices. That is
what was asked for, but it should not pass for the whole series: this check reads the
headers (no pixels) of the other files in the opened files' folders and counts those
that belong to the same series (the same derived identity for blank-UID files, so the
sample CT counts correctly).
"""

from __future__ import annotations

from pathlib import Path

from medstation.imaging.headers import instance_identity

MAX_SIBLINGS = 5000  # a huge folder is not scanned file by file on every open


def unopened_siblings(series_uid: str, opened_paths, *, limit: int = MAX_SIBLINGS) -> list[str]:
    """Paths in the folders of ``opened_paths`` that hold images of ``series_uid`` but were not opened."""
    import pydicom

    opened = {str(Path(p).resolve()) for p in opened_paths}
    folders = sorted({str(Path(p).resolve().parent) for p in opened_paths})
    found: list[str] = []
    seen = 0
    for folder in folders:
        for path in sorted(Path(folder).iterdir()):
            if not path.is_file() or str(path.resolve()) in opened:
                continue
            seen += 1
            if seen > limit:
                return found
            try:
                ds = pydicom.dcmread(str(path), stop_before_pixels=True)
            except Exception:  # not DICOM (or unreadable): not part of any series
                continue
            if "PixelData" not in ds and not hasattr(ds, "Rows"):
                continue
            if instance_identity(ds, path)[1] == series_uid:
                found.append(str(path))
    return found


def unopened_siblings_job(ctx, series_uid: str, opened_paths) -> list[str]:
    """Job (io lane) around :func:`unopened_siblings`."""
    ctx.check()
    return unopened_siblings(series_uid, list(opened_paths))
