"""Model-frame geometry: boxes in, masks out, on the original grid for any aspect ratio."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medstation.segmentation import preprocess
from medstation.segmentation.preprocess import PromptError


def test_frame_keeps_aspect_and_pads_bottom_right():
    frame = preprocess.model_frame((300, 400), 256)
    assert frame.resized_hw == (192, 256)
    image = np.zeros((300, 400), np.float32)
    image[:, 200:] = 5.0
    x = preprocess.prepare_input(image, frame)
    assert x.shape == (1, 3, 256, 256)
    assert x.min() == 0.0 and x.max() == pytest.approx(1.0)
    assert np.all(x[:, :, 192:, :] == 0)  # padding rows
    assert x[0, 0, 100, 200] == pytest.approx(1.0) and x[0, 0, 100, 50] == 0.0


def test_rgb_stays_rgb():
    rgb = np.zeros((64, 32, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 2] = 100
    x = preprocess.prepare_input(rgb, preprocess.model_frame((64, 32), 256))
    assert x[0, 0, 10, 10] > x[0, 2, 10, 10] > x[0, 1, 10, 10] == 0.0


def test_ct_is_windowed_before_normalising():
    hu = np.array([[-1000.0, 0.0, 40.0, 3000.0]], np.float32)
    out = preprocess.slice_for_model(hu, "CT", (40.0, 400.0))
    np.testing.assert_allclose(out, [[0.0, 0.4, 0.5, 1.0]], atol=1e-6)


def test_box_scaled_into_model_frame():
    frame = preprocess.model_frame((300, 400), 256)
    coords, labels = preprocess.build_prompt(frame, box=(100, 30, 200, 150))
    assert labels.tolist() == [[2.0, 3.0]]
    np.testing.assert_allclose(coords[0], [[64.0, 19.2], [128.0, 96.0]], rtol=1e-5)


def test_box_margin_widens_in_model_frame_and_stays_inside_the_image():
    frame = preprocess.model_frame((300, 400), 256)  # resized to 192 x 256 (rows x cols)
    coords, _ = preprocess.build_prompt(frame, box=(100, 30, 200, 150), box_margin=2.0)
    np.testing.assert_allclose(coords[0], [[62.0, 17.2], [130.0, 98.0]], rtol=1e-5)
    edge, _ = preprocess.build_prompt(frame, box=(0, 0, 399, 299), box_margin=2.0)
    np.testing.assert_allclose(edge[0], [[0.0, 0.0], [255.0, 191.0]], atol=1e-4)
    points, labels = preprocess.build_prompt(frame, points=[(10, 10)], box_margin=2.0)
    np.testing.assert_allclose(points[0, 0], [6.4, 6.4], rtol=1e-5)  # points are never moved


def test_engine_specs_declare_their_box_margin():
    from medstation.segmentation.registry import engine_spec

    assert engine_spec("litemedsam").box_margin == 2.0
    assert engine_spec("medsam_vit_b").box_margin == 0.0


def test_point_only_prompt_gets_padding_point():
    frame = preprocess.model_frame((100, 100), 256)
    coords, labels = preprocess.build_prompt(frame, points=[(10, 20)], labels=[0])
    assert labels.tolist() == [[0.0, -1.0]] and coords.shape == (1, 2, 2)


@pytest.mark.parametrize("box", [(10, 10, 10, 50), (5, 5, 5.5, 5.5), (500, 10, 600, 40), (-50, -50, -1, -1)])
def test_bad_boxes_refused_with_reason(box):
    with pytest.raises(PromptError):
        preprocess.clip_box(box, (100, 200))


def test_box_partly_outside_is_clipped():
    assert preprocess.clip_box((150, -20, 260, 40), (100, 200)) == (150.0, 0.0, 199.0, 40.0)
    assert preprocess.clip_box((60, 40, 10, 5), (100, 200)) == (10.0, 5.0, 60.0, 40.0)  # any corner order


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(20, 700), w=st.integers(20, 700),
    fx0=st.floats(0.0, 0.6), fy0=st.floats(0.0, 0.6), fw=st.floats(0.2, 0.4), fh=st.floats(0.2, 0.4),
)
def test_mask_maps_back_to_original_grid(h, w, fx0, fy0, fw, fh):
    """A rectangle drawn in low-res logit space lands on the same rectangle of the original image."""
    frame = preprocess.model_frame((h, w), 256)
    x0, y0, x1, y1 = fx0 * w, fy0 * h, (fx0 + fw) * w, (fy0 + fh) * h
    sx, sy = frame.scale_xy
    logits = np.full((1, 1, 256, 256), -10.0, np.float32)
    logits[0, 0, int(round(y0 * sy)):int(round(y1 * sy)), int(round(x0 * sx)):int(round(x1 * sx))] = 10.0
    logits[0, 0, frame.resized_hw[0]:, :] = 10.0  # padding junk must be cropped away
    logits[0, 0, :, frame.resized_hw[1]:] = 10.0
    mask = preprocess.logits_to_mask(logits, frame)
    assert mask.shape == (h, w)
    expected = np.zeros((h, w), bool)
    expected[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))] = True
    # resampling blurs the edges by about one model pixel = 1/scale original pixels
    tol = 1.5 / min(sx, sy) + 1
    rows, cols = np.nonzero(mask)
    assert abs(rows.min() - y0) <= tol and abs(rows.max() + 1 - y1) <= tol
    assert abs(cols.min() - x0) <= tol and abs(cols.max() + 1 - x1) <= tol
    assert not mask[-1, -1] or expected[-1, -1]  # padding did not leak into the image corner


@pytest.mark.parametrize("src, out", [((256, 256), (512, 512)), ((180, 256), (181, 258)), ((256, 200), (100, 80)),
                                      ((7, 5), (3, 11))])
def test_numpy_bilinear_matches_torch(src, out):
    import torch
    import torch.nn.functional as F

    from medstation.segmentation.preprocess import bilinear_resize

    values = np.random.default_rng(1).normal(size=src).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(values)[None, None], size=out, mode="bilinear", align_corners=False)
    got = bilinear_resize(values, out)
    assert got.shape == out
    assert np.abs(got - expected[0, 0].numpy()).max() < 1e-4


@pytest.mark.parametrize("in_hw,out_hw,antialias", [((512, 512), (256, 256), True), ((300, 500), (154, 256), True),
                                                     ((777, 333), (256, 110), True), ((100, 80), (256, 205), False)])
def test_numpy_resize_matches_torch_interpolate(in_hw, out_hw, antialias):
    """The model input is resized in numpy (the bundle has no torch), exactly as torch's interpolate did."""
    torch = pytest.importorskip("torch")
    from medstation.segmentation.preprocess import resize_image

    img = np.random.default_rng(1).random((*in_hw, 3)).astype(np.float32) * 1000
    expected = torch.nn.functional.interpolate(torch.from_numpy(img.transpose(2, 0, 1))[None], size=out_hw,
                                               mode="bilinear", align_corners=False, antialias=antialias)
    np.testing.assert_allclose(resize_image(img, out_hw, antialias=antialias),
                               expected[0].numpy().transpose(1, 2, 0), atol=1e-5 * 1000, rtol=0)
