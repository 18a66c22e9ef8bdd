"""Training examples for LiteMedSAM, prepared with the viewer's own preprocessing.

Every row of a segmentation snapshot becomes a :class:`SegExample`: the model input
``x`` float32 (3, S, S) built by ``preprocess.prepare_input`` (same resize, min–max
and padding as inference), the target on the decoder's (256, 256) low-res grid, the
mask's box in model-frame pixels, and the original-grid truth for validation.

Decoder-only training runs on cached image embeddings (:class:`EmbeddingStore`):
the frozen encoder runs once per image (and once for its mirror image, the one
augmentation an embedding cache can hold), stored as float16 on disk and shared
by every later run on the same images with the same encoder.
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
    """Encoder outputs cached on disk by image content and encoder, shared by every run.

    One float16 (256, 64, 64) ``.npy`` per image and view (``<sha>.npy``, its mirror
    ``<sha>-m.npy``) under ``<folder>/<encoder key>/<sha[:2]>/``, where ``sha`` is the
    sha256 of the model input (same image, same preprocessing: same embedding) and
    the encoder key names the encoder weights and back-end. A second run on the same
    images (another learning rate, a grown dataset, a search trial) reads them back
    instead of re-running the encoder. The folder is the app's ``cache/``: backups
    leave it out, and deleting it only costs time.
    """

    def __init__(self, folder: Path, encoder_key: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder_key)[:80]
        self.folder = Path(folder) / safe
        self._sha: dict[int, str] = {}  # id(example.x) → content hash (examples of one image share x)
        self.hits = self.misses = 0

    def _key(self, e: SegExample) -> str:
        found = self._sha.get(id(e.x))
        if found is None:
            found = hashlib.sha256(np.ascontiguousarray(e.x, np.float32).tobytes()).hexdigest()
            self._sha[id(e.x)] = found
        return found

    def path(self, e: SegExample, mirrored: bool) -> Path:
        sha = self._key(e)
        return self.folder / sha[:2] / f"{sha}{'-m' if mirrored else ''}.npy"

    def fill(self, ctx, examples: list[SegExample], encode, *, mirrored_for=frozenset(), report=None) -> None:
        """Embed every image of ``examples`` not cached yet (and the mirror of those whose ``id(x)`` is in
        ``mirrored_for``) with ``encode`` (numpy (1, 3, S, S) → (1, 256, 64, 64)).

        The worker passes the viewer's own encoder back-end (ONNX Runtime when available), so the
        decoder trains on exactly the embeddings it will see at inference. ``report(fraction, message)``
        follows the images done (0 → 1)."""
        todo: dict[Path, np.ndarray] = {}
        cached: set[Path] = set()
        for e in examples:
            views = ((False, e.x), (True, None)) if id(e.x) in mirrored_for else ((False, e.x),)
            for mirrored, x in views:
                path = self.path(e, mirrored)
                if path in todo or path in cached:
                    continue
                if path.is_file():
                    cached.add(path)
                    continue
                todo[path] = x if x is not None else flip_input(e.x, e.frame)
        self.hits += len(cached)
        for n, (path, x) in enumerate(todo.items()):
            ctx.check()
            if report is not None:
                report(n / len(todo), f"embedding image {n + 1}/{len(todo)} ({len(cached)} cached)")
            embedding = np.asarray(encode(x[None]), np.float32)[0].astype(np.float16)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            with tmp.open("wb") as handle:
                np.save(handle, embedding)
            tmp.replace(path)  # a half-written file is never mistaken for an embedding
            self.misses += 1

    def get(self, examples: list[SegExample], flipped: list[bool]) -> np.ndarray:
        """float32 (B, 256, 64, 64) embeddings of ``examples`` (their mirror images where ``flipped``)."""
        return np.stack([np.load(self.path(e, bool(f))).astype(np.float32) for e, f in zip(examples, flipped)])
