"""Segmentation without torch: exported graphs (cached, or shipped in a bundle) run on ONNX Runtime alone."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from medstation.segmentation import engine as engine_module
from medstation.segmentation import registry, shipped
from tests.seg_support import ellipse_image, engine, onnx_cache


def _no_torch_builder(*_args, **_kwargs):
    raise AssertionError("the torch network was built although its ONNX graphs exist")


@pytest.fixture
def no_torch_build(monkeypatch):
    onnx_cache(), engine()  # the session's export and reference engine are made (with torch) before the patch
    spec = registry.ENGINES["litemedsam"]
    monkeypatch.setitem(registry.ENGINES, "litemedsam", spec.__class__(**{**spec.__dict__, "builder": _no_torch_builder}))


def _ship(tmp_path, monkeypatch) -> str:
    """A fake resources folder holding the session's exported graphs with their engine.json."""
    import medstation.config

    sha = engine().sha256
    folder = tmp_path / "resources" / shipped.SHIPPED_ROOT / "onnx" / sha
    folder.mkdir(parents=True)
    names = shipped.graph_names()
    for name in names:
        shutil.copy(onnx_cache() / "onnx" / sha / name, folder / name)
    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}
    (folder / shipped.RECORD).write_text(json.dumps({"engine": "litemedsam", "checkpoint_sha256": sha, "files": files}))
    monkeypatch.setattr(medstation.config, "resources_dir", lambda: tmp_path / "resources")
    return sha


def test_cached_graphs_load_without_building_the_torch_network(no_torch_build, tmp_path):
    loaded = engine_module.load_engine("litemedsam", models_dir=tmp_path / "models", cache_dir=onnx_cache())
    assert loaded.backends == ("onnx", "onnx") and loaded.sha256 == engine().sha256
    image, truth = ellipse_image()
    mask = loaded.predict(image, box=(85, 45, 215, 135)).mask
    assert np.array_equal(mask, engine().predict(image, box=(85, 45, 215, 135)).mask)
    assert (mask & truth).sum() / truth.sum() > 0.8


def test_a_bundle_without_the_checkpoint_segments_with_its_shipped_graphs(no_torch_build, tmp_path, monkeypatch):
    sha = _ship(tmp_path, monkeypatch)
    monkeypatch.setattr(engine_module, "locate_checkpoint", lambda name, models_dir: (None, None))
    monkeypatch.setattr(registry, "_bundled_litemedsam_file", lambda: None)  # as in a bundle: no torch file
    assert "litemedsam" in registry.available_engines(tmp_path / "models")
    loaded = engine_module.load_engine("litemedsam", models_dir=tmp_path / "models", cache_dir=tmp_path / "cache")
    assert loaded.sha256 == sha and loaded.backends == ("onnx", "onnx")
    assert loaded.checkpoint.name == shipped.RECORD
    image, truth = ellipse_image(seed=3)
    assert (loaded.predict(image, box=(85, 45, 215, 135)).mask & truth).sum() / truth.sum() > 0.8


def test_a_damaged_shipped_graph_is_not_used(tmp_path, monkeypatch):
    sha = _ship(tmp_path, monkeypatch)
    assert shipped.shipped_engine("litemedsam")["checkpoint_sha256"] == sha
    encoder = shipped.shipped_cache_dir() / "onnx" / sha / "encoder.onnx"
    encoder.write_bytes(encoder.read_bytes()[:-10])  # truncated: its checksum no longer matches the record
    assert shipped.shipped_engine("litemedsam") is None
    monkeypatch.setattr(engine_module, "locate_checkpoint", lambda name, models_dir: (None, None))
    with pytest.raises(Exception, match="not found"):
        engine_module.load_engine("litemedsam", models_dir=tmp_path / "models", cache_dir=None)
