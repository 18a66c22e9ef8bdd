"""One pixel preparation: the command line (a DICOM file) and the viewer (a loaded series) give the model
the same pixels, MONOCHROME1 inverted on both, and so the same mask."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.segmentation.cache import EmbeddingCache
from medstation.segmentation.images import read_image
from medstation.segmentation.preprocess import slice_for_model
from medstation.segmentation.slices import VolumeSegmenter
from tests.seg_support import engine


def _monochrome1_series(folder, modality):
    paths = write_series(folder, SeriesSpec(n_slices=3, rows=64, columns=64, modality=modality))
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.PhotometricInterpretation = "MONOCHROME1"
        ds.save_as(path)
    return load_series(JobContext(), paths)


def test_monochrome1_is_inverted_after_windowing():
    values = np.array([[0.0, 100.0, 200.0]])
    assert np.allclose(slice_for_model(values, "MR", (100.0, 200.0), "MONOCHROME1"), [[1.0, 0.5, 0.0]])
    assert np.allclose(slice_for_model(values, "MR", None, "MONOCHROME1"), [[200.0, 100.0, 0.0]])
    assert np.allclose(slice_for_model(values, "MR", (100.0, 200.0), "MONOCHROME2"), [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("modality", ["MR", "CT"])
def test_cli_and_viewer_paths_give_the_model_the_same_pixels(tmp_path, modality):
    volume = _monochrome1_series(tmp_path / "s", modality)
    segmenter = VolumeSegmenter(object(), volume, EmbeddingCache(2))
    for k, path in enumerate(volume.source_paths):
        cli = read_image(path)
        gui = segmenter.slice_image(k)
        assert cli.dtype == gui.dtype == np.float32
        assert np.array_equal(cli, gui)
    ordinary = slice_for_model(volume.pixels[1], modality, volume.window)
    assert not np.allclose(gui, ordinary)  # the inversion did happen


@pytest.mark.slow
def test_cli_and_viewer_paths_give_the_same_mask(tmp_path):
    volume = _monochrome1_series(tmp_path / "s", "MR")
    eng = engine()
    box = (12.0, 12.0, 50.0, 50.0)
    cli = eng.predict(read_image(volume.source_paths[1]), box=box).mask
    gui = VolumeSegmenter(eng, volume, EmbeddingCache(2)).predict(1, box=box).mask
    assert cli.any() and np.array_equal(cli, gui)
