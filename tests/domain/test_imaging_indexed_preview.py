"""An indexed series shows its middle slice first, not whichever file happened to be read first.

For files the index knows (their frame headers cached), the stack's order is known before any file is
read, so the first picture streamed is already the slice the viewer will show; the old early preview
decoded the first file read (any slice), and the viewer then jumped to the middle one.
"""

from __future__ import annotations

import numpy as np

from medstation.imaging.catalog import series_load_inputs
from medstation.imaging.indexer import index_paths
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext


def test_indexed_series_streams_only_its_middle_slice(tmp_path, db):
    write_series(tmp_path / "s", SeriesSpec(n_slices=9), shuffle_seed=3)
    index_paths(JobContext(), db, [tmp_path / "s"])
    import pydicom

    uid = str(pydicom.dcmread(next((tmp_path / "s").iterdir())).SeriesInstanceUID)
    paths, cache = series_load_inputs(db, uid)
    assert len(cache) == 9  # every file's headers come from the index
    previews: list[dict] = []
    volume = load_series(JobContext(on_partial=previews.append), paths, cache=cache)
    assert [(p["kind"], p["index"]) for p in previews] == [("preview", 4)]
    assert np.array_equal(previews[0]["image"], volume.pixels[4])


def test_unindexed_files_still_show_something_while_the_headers_are_read(tmp_path):
    paths = write_series(tmp_path / "s", SeriesSpec(n_slices=6))
    previews: list[dict] = []
    load_series(JobContext(on_partial=previews.append), paths)
    assert previews[0]["index"] is None and previews[-1]["index"] == 3
