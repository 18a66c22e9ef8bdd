"""Training examples for LiteMedSAM, prepared with the viewer's own preprocessing.

Every row of a segmentation snapshot becomes a :class:`SegExample`: the model input
``x`` float32 (3, S, S) built by ``preprocess.prepare_input`` (same resize, min–max
and padding as inference), the target on the decoder's (256, 256) low-res grid, the
mask's box in model-frame pixels, and the original-grid truth for validation.

Decoder-only training runs on cached image embeddings (:class:`EmbeddingStore`):
the frozen encoder runs once per image (and once for its mirror image, the one
augmentation an embedding cache can hold), stored as float16 on disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medstation.segmentation import images, preprocess


@dataclass(frozen=True)
class SegExample:
    """One (image, mask) pair ready for the network. Boxes are (x0, y0, x1, y1) model-frame pixels."""

    row: dict
    image_index: int  # rows of one image share an index (and an embedding)
    x: np.ndarray  # float32 (3, S, S) in [0, 1]
    target: np.ndarray  # float32 (256, 256) 0/1 on the low-res grid
    box: np.ndarray  # float32 (4,)
    truth: np.ndarray  # bool (H, W), original grid
    frame: preprocess.ModelFrame


def _low_res_target(mask: np.ndarray, frame: preprocess.ModelFrame) -> np.ndarray:
    """Original-grid bool mask → (256, 256) float32 target covering the model frame like the logits do."""
    import torch
    import torch.nn.functional as F

    rh, rw = frame.resized_hw
    scale = preprocess.LOW_RES_SIZE / frame.input_size
    th, tw = max(1, round(rh * scale)), max(1, round(rw * scale))
    t = torch.from_numpy(np.asarray(mask, np.float32))[None, None]
    t = F.interpolate(t, size=(th, tw), mode="area")[0, 0].numpy() >= 0.5
    out = np.zeros((preprocess.LOW_RES_SIZE, preprocess.LOW_RES_SIZE), np.float32)
    out[:th, :tw] = t
    return out


def mask_box_model(mask: np.ndarray, frame: preprocess.ModelFrame) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    corners = preprocess.to_model_coords(np.array([[xs.min(), ys.min()], [xs.max(), ys.max()]]), frame)
    return corners.reshape(4).astype(np.float32)


def load_examples(rows: list[dict], input_size: int = 256) -> list[SegExample]:
    """Read and prepare ``rows`` (absolute paths). Rows on the same image file share ``image_index``."""
    out: list[SegExample] = []
    index_of: dict[str, int] = {}
    inputs: dict[str, tuple[np.ndarray, preprocess.ModelFrame]] = {}
    for row in rows:
        if row["image"] not in inputs:
            image = images.read_image(row["image"])
            frame = preprocess.model_frame(image.shape[:2], input_size, True)
            inputs[row["image"]] = (preprocess.prepare_input(image, frame)[0], frame)
            index_of[row["image"]] = len(index_of)
        x, frame = inputs[row["image"]]
        truth = images.read_mask(row["mask"])
        if truth.shape != frame.original_hw or not truth.any():
            continue
        out.append(SegExample(row, index_of[row["image"]], x, _low_res_target(truth, frame),
                              mask_box_model(truth, frame), truth, frame))
    return out


def flip_example(example: SegExample) -> tuple[np.ndarray, np.ndarray]:
    """(target, box) of the mirror image (left–right within the resized, unpadded region)."""
    rh, rw = example.frame.resized_hw
    scale = preprocess.LOW_RES_SIZE / example.frame.input_size
    tw = max(1, round(rw * scale))
    target = example.target.copy()
    target[:, :tw] = target[:, :tw][:, ::-1]
    x0, y0, x1, y1 = example.box
    return target, np.array([rw - 1 - x1, y0, rw - 1 - x0, y1], np.float32)


def flip_input(x: np.ndarray, frame: preprocess.ModelFrame) -> np.ndarray:
    rh, rw = frame.resized_hw
    out = x.copy()
    out[:, :rh, :rw] = x[:, :rh, :rw][:, :, ::-1]
    return out


class EmbeddingStore:
    """Encoder outputs (n_images, 2, 256, 64, 64) float16 in a memmap: [i, 0] the image, [i, 1] its mirror.

    The file name carries a hash of the image list and encoder weights, so a resumed
    run reuses it and a changed dataset or model never does.
    """

    def __init__(self, folder: Path, examples: list[SegExample], encoder_sha: str) -> None:
        self.n_images = 1 + max(e.image_index for e in examples)
        paths = sorted({(e.image_index, e.row["image"]) for e in examples})
        tag = hashlib.sha256((encoder_sha + "|".join(p for _, p in paths)).encode()).hexdigest()[:16]
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / f"embeddings-{tag}.f16"
        self.done_path = self.path.with_suffix(".done")
        shape = (self.n_images, 2, 256, 64, 64)
        mode = "r+" if self.path.is_file() else "w+"
        self.array = np.lib.format.open_memmap(str(self.path), mode=mode, dtype=np.float16, shape=shape) \
            if mode == "w+" else np.load(str(self.path), mmap_mode="r+")
        self.complete = self.done_path.is_file()

    def fill(self, ctx, examples: list[SegExample], encode, *, mirrored: bool = True) -> None:
        """Run ``encode`` (numpy (1, 3, S, S) → (1, 256, 64, 64)) on each image and its mirror.

        The worker passes the viewer's own encoder back-end (ONNX Runtime when available),
        so the decoder trains on exactly the embeddings it will see at inference.
        """
        if self.complete:
            return
        firsts: dict[int, SegExample] = {}
        for e in examples:
            firsts.setdefault(e.image_index, e)
        for n, (index, e) in enumerate(sorted(firsts.items())):
            ctx.check()
            ctx.report(0.02 + 0.08 * n / len(firsts), f"embedding image {n + 1}/{len(firsts)}")
            for k, x in enumerate((e.x, flip_input(e.x, e.frame)) if mirrored else (e.x,)):
                self.array[index, k] = np.asarray(encode(x[None]), np.float32)[0].astype(np.float16)
        self.array.flush()
        self.done_path.write_text("ok")
        self.complete = True

    def get(self, indices: list[int], flipped: list[bool]) -> np.ndarray:
        return np.stack([np.asarray(self.array[i, int(f)], np.float32) for i, f in zip(indices, flipped)])
