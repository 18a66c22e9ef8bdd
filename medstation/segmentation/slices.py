"""Slices of a :class:`~medstation.imaging.volume.Volume` as engine inputs, with cached embeddings.

``VolumeSegmenter`` ties one engine to one volume and one display window: the
embedding of axial slice ``k`` is computed once and kept in the shared
:class:`EmbeddingCache` under ``(series_uid, k, model_version, window)``, so every
new box or point on that slice only runs the decoder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from medstation.foreground import FOREGROUND
from medstation.jobs import JobContext
from medstation.segmentation import preprocess
from medstation.segmentation.cache import EmbeddingCache, embedding_key
from medstation.segmentation.engine import ImageEmbedding, MaskPrediction
from medstation.segmentation.preprocess import PromptError
from medstation.segmentation.refine import prompt_mask


class VolumeSegmenter:
    """Prompt → 2D mask on axial slices of ``volume`` (pixels (z, y, x)); coordinates in (x=column, y=row)."""

    def __init__(self, engine, volume, cache: EmbeddingCache, window: tuple[float, float] | None = None) -> None:
        self.engine = engine
        self.volume = volume
        self.cache = cache
        # CT without a window of its own gets a soft-tissue window (MedSAM saw windowed CT)
        self.window = window or volume.window
        if self.window is None and str(volume.modality).upper() == "CT":
            self.window = preprocess.SOFT_TISSUE_WINDOW

    @property
    def n_slices(self) -> int:
        return int(self.volume.pixels.shape[0])

    def key(self, index: int) -> tuple:
        return embedding_key(self.volume.series_uid, index, self.engine.model_version, self.window)

    def has_embedding(self, index: int) -> bool:
        return self.key(index) in self.cache

    def slice_image(self, index: int) -> np.ndarray:
        """Slice ``index`` as float32 (y, x) in [0, 1] after windowing."""
        if not 0 <= index < self.n_slices:
            raise IndexError(f"slice {index} outside 0..{self.n_slices - 1}")
        return preprocess.slice_for_model(self.volume.pixels[index], self.volume.modality, self.window,
                                          str(self.volume.meta.get("photometric", "")))

    def embedding(self, index: int) -> ImageEmbedding:
        return self.cache.get_or_compute(self.key(index), lambda: self.engine.embed(self.slice_image(index)))

    def predict(self, index: int, box=None, points=None, labels=None) -> MaskPrediction:
        return self.engine.decode(self.embedding(index), box=box, points=points, labels=labels)

    def prompt(self, index: int, box=None, points=None, labels=None) -> MaskPrediction:
        """Box and clicks → the viewer's mask (:func:`~medstation.segmentation.refine.prompt_mask`)."""
        return prompt_mask(lambda **p: self.predict(index, **p), self.volume.pixels.shape[1:], box, points, labels)

    def predict_mask(self, index: int, box) -> np.ndarray:
        """Box → bool (y, x) mask; the callable shape ``propagation.propagate`` wants."""
        return self.predict(index, box=box).mask


def neighbour_order(center: int, n_slices: int, radius: int) -> list[int]:
    """Slices around ``center`` nearest first: c+1, c-1, c+2, c-2, … within [0, n_slices)."""
    order = []
    for step in range(1, radius + 1):
        for k in (center + step, center - step):
            if 0 <= k < n_slices:
                order.append(k)
    return order


def precompute_embeddings(ctx: JobContext, segmenter: VolumeSegmenter, indices: Iterable[int]) -> list[int]:
    """Job: fill the cache for ``indices`` (skipping cached ones); returns the slices newly embedded.

    Queued in the segmentation lane while the user looks at a slice; any user
    prompt cancels it (``ctx.check()`` between slices), so it never delays a mask.
    While a chat answer streams it waits before each slice
    (:data:`~medstation.foreground.FOREGROUND`): an image-encoder pass on the
    second core slows llama.cpp's decoding several-fold.
    """
    wanted = [k for k in indices if 0 <= k < segmenter.n_slices]
    done = []
    for i, index in enumerate(wanted):
        ctx.check()
        if not segmenter.has_embedding(index):
            FOREGROUND.wait_while_busy(ctx)  # an answer is streaming: let it have the CPU first
            segmenter.embedding(index)
            done.append(index)
        ctx.report((i + 1) / max(1, len(wanted)), f"prepared slice {index + 1}")
    return done


def segment_slice(ctx: JobContext, segmenter: VolumeSegmenter, index: int, box=None, points=None, labels=None):
    """Job: one prompt on axial slice ``index`` → (index, MaskPrediction). Encodes the slice first if needed.

    A box with clicks is refined (:meth:`VolumeSegmenter.prompt`), exactly as ``medstation segment`` does."""
    ctx.check()
    if not segmenter.has_embedding(index):
        ctx.report(0.1, f"encoding slice {index + 1}")
    segmenter.embedding(index)
    ctx.check()
    return index, segmenter.prompt(index, box=box, points=points, labels=labels)


class LatestBox:
    """The newest box of a drag, handed from the GUI thread to :func:`live_decode`.

    ``put`` replaces any box not yet taken (a decode that finishes late should show
    where the mouse is now, not where it was); ``close`` ends the drag.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._box = None
        self.closed = False

    def put(self, box) -> None:
        with self._cond:
            self._box = tuple(float(v) for v in box)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify()

    def take(self, timeout: float):
        """The newest untaken box, or None after ``timeout`` seconds or once closed with none left."""
        with self._cond:
            if self._box is None and not self.closed:
                self._cond.wait(timeout)
            box, self._box = self._box, None
            return box


def live_decode(ctx: JobContext, segmenter: VolumeSegmenter, index: int, boxes: LatestBox,
                idle_s: float = 0.25, max_idle_s: float = 3.0) -> int:
    """Job: decode each newest box of a drag on slice ``index`` as soon as the last mask is out.

    Streams ``ctx.partial((index, MaskPrediction))``; returns the number of masks made.
    One job serves the whole drag, so no mask waits for a round trip through the GUI
    thread. Ends when ``boxes`` is closed, after ``max_idle_s`` without a new box (a drag
    that never saw its release must not hold the lane), or when cancelled; a degenerate
    box mid-drag (zero size) is skipped.
    """
    import time

    segmenter.embedding(index)  # usually cached already: the slice on screen is embedded in the background
    made = 0
    last_box = time.monotonic()
    while True:
        ctx.check()
        box = boxes.take(idle_s)
        if box is None:
            if boxes.closed or time.monotonic() - last_box > max_idle_s:
                boxes.close()
                return made
            continue
        last_box = time.monotonic()
        try:
            prediction = segmenter.predict(index, box=box)
        except PromptError:
            continue
        made += 1
        ctx.partial((index, prediction))
