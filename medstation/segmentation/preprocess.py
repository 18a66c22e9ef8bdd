"""Image → model input and model output → mask, as MedSAM / LiteMedSAM expect.

Coordinate systems:

* *original*: the caller's 2D image, shape (H, W) or (H, W, 3); boxes and points in
  pixel coordinates (x = column, y = row), box as (x0, y0, x1, y1).
* *model frame*: the square network input of side ``input_size`` (256 for LiteMedSAM,
  1024 for MedSAM ViT-B). With ``keep_aspect`` (LiteMedSAM) the image is resized so its
  longest side is ``input_size`` and padded at the bottom/right; without it (MedSAM
  ViT-B, as trained) the image is stretched to the full square.
* *low-res logits*: the decoder's (256, 256) output covers the whole model frame, so the
  unpadded region is its top-left ``(resized_h * 256 / input_size, ...)`` corner.

All functions are pure numpy (no torch: the bundle has none) and Qt-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medstation.errors import UserFacingError

LOW_RES_SIZE = 256  # side of SAM's decoder output, whatever the input size


class PromptError(UserFacingError, ValueError):
    """A box or point the engine refuses (zero size, wholly outside the image)."""


@dataclass(frozen=True)
class ModelFrame:
    """How an original (H, W) image sits in the square model input."""

    original_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    input_size: int

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Multipliers from original pixel coordinates to model-frame coordinates (x, y)."""
        (h, w), (rh, rw) = self.original_hw, self.resized_hw
        return rw / w, rh / h


def model_frame(original_hw: tuple[int, int], input_size: int, keep_aspect: bool = True) -> ModelFrame:
    h, w = int(original_hw[0]), int(original_hw[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"empty image {h}x{w}")
    if not keep_aspect:
        return ModelFrame((h, w), (input_size, input_size), input_size)
    scale = input_size / max(h, w)
    return ModelFrame((h, w), (max(1, int(h * scale + 0.5)), max(1, int(w * scale + 0.5))), input_size)


def window_to_unit(pixels: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map modality values (e.g. HU) through a display window to float32 in [0, 1]."""
    width = max(float(width), 1e-6)
    low = center - width / 2.0
    return np.clip((np.asarray(pixels, np.float32) - low) / width, 0.0, 1.0).astype(np.float32)


# Soft-tissue abdomen window (center, width) in HU, used when a CT series gives none.
SOFT_TISSUE_WINDOW = (40.0, 400.0)


def slice_for_model(pixels2d: np.ndarray, modality: str, window: tuple[float, float] | None,
                    photometric: str = "") -> np.ndarray:
    """A (H, W) slice in modality units → float32 (H, W) ready for :func:`prepare_input`.

    The one pixel preparation for every caller (viewer, command line, evaluation), so
    the model sees the same pixels whichever path asks. CT is windowed first (MedSAM
    was trained on windowed CT; result in [0, 1]); other modalities are min–max scaled
    by :func:`prepare_input` anyway, so a window only applies if given. ``photometric``
    ``MONOCHROME1`` (low values shown bright) is inverted after windowing, so the model
    sees the image as the viewer shows it.
    """
    if modality.upper() == "CT":
        center, width = window or SOFT_TISSUE_WINDOW
        out, unit = window_to_unit(pixels2d, center, width), True
    elif window is not None:
        out, unit = window_to_unit(pixels2d, *window), True
    else:
        out, unit = np.asarray(pixels2d, np.float32), False
    if str(photometric).upper() == "MONOCHROME1":
        out = (1.0 - out) if unit else (float(out.max()) + float(out.min()) - out)
    return np.asarray(out, np.float32)


def prepare_input(image: np.ndarray, frame: ModelFrame, antialias: bool = True) -> np.ndarray:
    """(H, W) gray or (H, W, 3) RGB image → float32 (1, 3, S, S) model input in [0, 1].

    Gray is repeated to three channels; RGB stays RGB. The resized image is min–max
    normalised over its own pixels (not the padding), then zero-padded bottom/right.
    Shrinking is antialiased (like the INTER_AREA resize of LiteMedSAM's own inference).
    On the seg2d manifest it scored Dice 0.922 / 0.640 / 0.957 (Kvasir / CT organs / chest
    X-ray) against 0.918 / 0.655 / 0.902 for plain bilinear, so it stays the default.
    """
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"expected (H, W) or (H, W, 3) image, got shape {image.shape}")
    arr = arr[..., :3]
    if arr.shape[:2] != frame.original_hw:
        raise ValueError(f"image {arr.shape[:2]} does not match frame {frame.original_hw}")
    rh, rw = frame.resized_hw
    if (rh, rw) != frame.original_hw:
        shrinking = rh < frame.original_hw[0] or rw < frame.original_hw[1]
        arr = resize_image(arr, (rh, rw), antialias=antialias and shrinking)
    low, high = float(arr.min()), float(arr.max())
    arr = (arr - low) / max(high - low, 1e-8)
    out = np.zeros((1, 3, frame.input_size, frame.input_size), np.float32)
    out[0, :, :rh, :rw] = arr.transpose(2, 0, 1)
    return out


def _aa_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float64 weights of torch's antialiased bilinear resize along one axis.

    The rule of ``torch.nn.functional.interpolate(mode="bilinear", antialias=True, align_corners=False)``
    (and PIL's): a triangle filter widened by the scale when shrinking, each output's weights normalised.
    """
    scale = n_in / n_out
    support = scale if scale >= 1.0 else 1.0
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = np.maximum(0.0, 1.0 - np.abs((np.arange(lo, hi) - center + 0.5) * invscale))
        total = w.sum()
        weights[i, lo:hi] = w / total if total > 0 else w
    return weights


def resize_image(arr: np.ndarray, out_hw: tuple[int, int], *, antialias: bool) -> np.ndarray:
    """(H, W, C) float32 → (h, w, C) float32: torch's bilinear ``interpolate`` (half-pixel centres), in numpy.

    No torch at run time (the bundle has none); ``tests/domain/test_seg_preprocess.py`` checks it
    against torch to float32 precision.
    """
    h, w = int(out_hw[0]), int(out_hw[1])
    if antialias:
        rows = _aa_weights(arr.shape[0], h).astype(np.float32)
        cols = _aa_weights(arr.shape[1], w).astype(np.float32)
        return np.einsum("yh,hwc->ywc", rows, np.einsum("xw,hwc->hxc", cols, arr)).astype(np.float32)
    return np.stack([bilinear_resize(arr[..., c], (h, w)) for c in range(arr.shape[2])], axis=2)


def clip_box(box, original_hw: tuple[int, int]) -> tuple[float, float, float, float]:
    """Order and clip a box (x0, y0, x1, y1) in original pixels to the image; refuse empty ones.

    Raises :class:`PromptError` when the box has zero width or height, or lies
    entirely outside the image.
    """
    h, w = original_hw
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise PromptError("box has non-finite coordinates")
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    if x1 - x0 < 1.0 or y1 - y0 < 1.0:
        raise PromptError(f"box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) has zero size; drag a larger box")
    if x1 < 0 or y1 < 0 or x0 > w - 1 or y0 > h - 1:
        raise PromptError(f"box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) lies outside the {w}x{h} image")
    cx0, cx1 = max(0.0, x0), min(float(w - 1), x1)
    cy0, cy1 = max(0.0, y0), min(float(h - 1), y1)
    if cx1 - cx0 < 1.0 or cy1 - cy0 < 1.0:
        raise PromptError("box covers less than one pixel of the image")
    return cx0, cy0, cx1, cy1


def to_model_coords(points_xy: np.ndarray, frame: ModelFrame) -> np.ndarray:
    """(N, 2) original-pixel (x, y) → model-frame (x, y), float32."""
    sx, sy = frame.scale_xy
    pts = np.asarray(points_xy, np.float32).reshape(-1, 2)
    return (pts * np.array([sx, sy], np.float32)).astype(np.float32)


def build_prompt(frame: ModelFrame, box=None, points=None, labels=None,
                 box_margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """SAM sparse prompt as (coords (1, N, 2) model frame, labels (1, N) float32).

    Labels: 1 positive point, 0 negative point, 2/3 box top-left/bottom-right corner,
    -1 the padding point SAM appends when there is no box. ``box_margin`` (model-frame
    pixels) widens the box on each side, kept inside the resized image.
    """
    coords: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    if points is not None and len(points):
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        lab = np.ones(len(pts), np.float32) if labels is None else np.asarray(labels, np.float32).reshape(-1)
        if len(lab) != len(pts):
            raise PromptError("one label per point is needed")
        h, w = frame.original_hw
        inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
        if not inside.all():
            raise PromptError("a point lies outside the image")
        coords.append(to_model_coords(pts, frame))
        codes.append(lab)
    if box is not None:
        x0, y0, x1, y1 = clip_box(box, frame.original_hw)
        corners = to_model_coords(np.array([[x0, y0], [x1, y1]]), frame)
        if box_margin:
            rh, rw = frame.resized_hw
            corners = corners + np.array([[-box_margin, -box_margin], [box_margin, box_margin]], np.float32)
            corners = np.clip(corners, 0.0, np.array([rw - 1, rh - 1], np.float32))
        coords.append(corners.astype(np.float32))
        codes.append(np.array([2, 3], np.float32))
    elif coords:
        coords.append(np.zeros((1, 2), np.float32))
        codes.append(np.array([-1], np.float32))
    if not coords:
        raise PromptError("give a box or at least one point")
    return np.concatenate(coords)[None].astype(np.float32), np.concatenate(codes)[None].astype(np.float32)


def _interp_axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (i0, i1) and weights of i1 for half-pixel bilinear sampling along one axis.

    Same rule as torch's ``interpolate(mode="bilinear", align_corners=False)``:
    ``src = (dst + 0.5) * n_in / n_out - 0.5``, clamped at 0, neighbour clamped at the edge.
    """
    src = np.maximum((np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def bilinear_resize(values: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """(h, w) float → (H, W) float32 by bilinear sampling (no antialiasing), in numpy.

    Kept out of torch on purpose: torch's worker threads keep spinning for a while
    after each op and would slow the ONNX Runtime decoder call that follows (measured:
    p50 40 → 60 ms per box).
    """
    values = np.asarray(values, np.float32)
    y0, y1, wy = _interp_axis(values.shape[0], int(out_hw[0]))
    x0, x1, wx = _interp_axis(values.shape[1], int(out_hw[1]))
    rows = values[y0] * (1.0 - wy)[:, None] + values[y1] * wy[:, None]  # (H, w)
    return rows[:, x0] * (1.0 - wx) + rows[:, x1] * wx


def logits_to_mask(low_res_logits: np.ndarray, frame: ModelFrame) -> np.ndarray:
    """Decoder logits (…, 256, 256) → bool mask (H, W) on the original grid (sigmoid > 0.5)."""
    logits = np.asarray(low_res_logits, np.float32).reshape(LOW_RES_SIZE, LOW_RES_SIZE)
    rh, rw = frame.resized_hw
    crop_h = max(1, math.ceil(rh * LOW_RES_SIZE / frame.input_size))
    crop_w = max(1, math.ceil(rw * LOW_RES_SIZE / frame.input_size))
    full = bilinear_resize(logits[:crop_h, :crop_w], frame.original_hw)
    return full > 0.0  # logit > 0  <=>  sigmoid > 0.5
