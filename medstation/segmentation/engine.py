"""A loaded segmentation engine: ``embed(image)`` once per image, ``decode(embedding, box, points)`` per prompt.

Images are in *original* pixel coordinates: (H, W) gray or (H, W, 3) RGB, any
numeric range (the engine min–max normalises; CT must be windowed first, see
``preprocess.slice_for_model``). Boxes are (x0, y0, x1, y1) and points (x, y),
x = column, y = row. Masks come back as bool (H, W) on the same grid.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medstation.segmentation import preprocess
from medstation.segmentation.backends import make_backends, set_torch_threads
from medstation.segmentation.registry import EngineSpec, engine_spec, locate_checkpoint
from medstation.segmentation.checkpoints import CheckpointError


@dataclass(frozen=True)
class ImageEmbedding:
    """Encoder output for one image: ``features`` float32 (1, 256, 64, 64) plus its geometry."""

    features: np.ndarray
    frame: preprocess.ModelFrame
    model_version: str
    seconds: float = 0.0


@dataclass(frozen=True)
class MaskPrediction:
    """A decoded mask (bool (H, W), original grid) and the prompt that made it (original pixels)."""

    mask: np.ndarray
    score: float  # the decoder's own IoU estimate, not a measured accuracy
    box: tuple[float, float, float, float] | None
    points: list[tuple[float, float, int]] = field(default_factory=list)
    seconds: float = 0.0
    box_margin: float = 0.0  # model-frame pixels the engine added to each side of the box
    refinement: str = ""  # how clicks were applied (``refine.REFINEMENT``); "" for a plain prompt
    notes: tuple[str, ...] = ()  # one plain sentence per click: what it did to the mask
    model_version: str = ""  # the engine that drew it (``litemedsam:<sha256[:12]>``): provenance names the weights

    @property
    def empty(self) -> bool:
        return not bool(self.mask.any())

    def prompt_record(self) -> dict:
        """JSON-able provenance of this prompt."""
        record = {"box": list(self.box) if self.box else None, "points": [list(p) for p in self.points],
                  "box_margin_model_px": self.box_margin}
        if self.refinement:
            record["refinement"] = self.refinement
        if self.model_version:
            record["model"] = self.model_version
        return record


class SegmentationEngine:
    """One network ready to run. Use it from a single thread (the ``segmentation`` lane)."""

    def __init__(self, spec: EngineSpec, parts, checkpoint: Path, *, threads: int, cache_dir: Path | None,
                 encoder_backend: str = "auto", decoder_backend: str = "auto") -> None:
        self.spec = spec
        self.checkpoint = Path(checkpoint)
        self.sha256 = parts.sha256
        self.threads = threads
        self._encoder, self._decoder, self.notes = make_backends(
            parts, threads=threads, cache_dir=cache_dir, encoder=encoder_backend, decoder=decoder_backend
        )
        self.encoder_calls = 0
        self.decoder_calls = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model_version(self) -> str:
        """Short stable identity for caches and provenance: engine name + sha256 prefix."""
        return f"{self.spec.name}:{self.sha256[:12]}"

    @property
    def backends(self) -> tuple[str, str]:
        return self._encoder.name, self._decoder.name

    def describe(self) -> str:
        enc, dec = self.backends
        return f"{self.spec.display_name} ready (encoder: {enc}, decoder: {dec}, {self.threads} threads)"

    def embed(self, image: np.ndarray) -> ImageEmbedding:
        """(H, W) or (H, W, 3) image → :class:`ImageEmbedding` (runs the expensive encoder)."""
        image = np.asarray(image)
        frame = preprocess.model_frame(image.shape[:2], self.spec.input_size, self.spec.keep_aspect)
        start = time.perf_counter()
        x = preprocess.prepare_input(image, frame)
        with self._lock:
            features = self._encoder.encode(x)
            self.encoder_calls += 1
        return ImageEmbedding(np.asarray(features, np.float32), frame, self.model_version, time.perf_counter() - start)

    def decode(self, embedding: ImageEmbedding, box=None, points=None, labels=None) -> MaskPrediction:
        """Prompt → mask on the embedded image's original grid.

        ``box`` (x0, y0, x1, y1) is clipped to the image; a zero-size box or one
        outside the image raises :class:`preprocess.PromptError`. ``points`` (N, 2)
        with ``labels`` (N,) 1 = inside, 0 = outside.
        """
        if embedding.model_version != self.model_version:
            raise ValueError("embedding was made by another model version")
        start = time.perf_counter()
        frame = embedding.frame
        coords, codes = preprocess.build_prompt(frame, box=box, points=points, labels=labels,
                                                box_margin=self.spec.box_margin)
        with self._lock:
            logits, iou = self._decoder.decode(embedding.features, coords, codes)
            self.decoder_calls += 1
        mask = preprocess.logits_to_mask(logits, frame)
        used_box = preprocess.clip_box(box, frame.original_hw) if box is not None else None
        pts = []
        if points is not None and len(points):
            lab = np.ones(len(points)) if labels is None else np.asarray(labels).reshape(-1)
            pts = [(float(p[0]), float(p[1]), int(lab_i)) for p, lab_i in zip(np.asarray(points).reshape(-1, 2), lab)]
        return MaskPrediction(mask, float(np.asarray(iou).reshape(-1)[0]), used_box, pts, time.perf_counter() - start,
                              self.spec.box_margin if box is not None else 0.0, self.model_version)

    def predict(self, image: np.ndarray, box=None, points=None, labels=None) -> MaskPrediction:
        """One-shot embed + decode (command line, evaluation)."""
        return self.decode(self.embed(image), box=box, points=points, labels=labels)


def load_engine(name: str, *, models_dir: Path, cache_dir: Path | None, threads: int = 2,
                checkpoint: Path | None = None, encoder_backend: str = "auto",
                decoder_backend: str = "auto") -> SegmentationEngine:
    """Find, verify (sha256) and build engine ``name``; raises :class:`CheckpointError` with a plain reason.

    ``checkpoint`` overrides the registry's file. The bundled file must match its
    published sha256; any other file (a fine-tuned version) is identified by the
    sha256 computed here, which the model registry records and compares.
    """
    # lazy: shipped graphs and the checkpoint reader are needed only when a model loads
    from medstation.segmentation import shipped
    from medstation.segmentation.backends import set_torch_threads
    from medstation.segmentation.checkpoints import verify_checkpoint
    from medstation.segmentation.networks import SamParts

    spec = engine_spec(name)
    found, expected_sha = locate_checkpoint(name, models_dir)
    path = Path(checkpoint) if checkpoint is not None else found
    onnx_only = encoder_backend in ("auto", "onnx") and decoder_backend in ("auto", "onnx")

    def graphs_only(sha: str, source: Path, folder: Path) -> SegmentationEngine:
        """Exported graphs exist for these weights: ONNX Runtime alone, torch is never imported."""
        return SegmentationEngine(spec, SamParts(None, None, spec.input_size, sha), source, threads=threads,
                                  cache_dir=folder, encoder_backend="onnx", decoder_backend="onnx")

    if path is None:
        record = shipped.shipped_engine(name) if onnx_only else None
        if record is not None:  # a bundle: the graphs were exported at build time, the torch file stays behind
            sha = record["checkpoint_sha256"]
            return graphs_only(sha, shipped.record_path(sha), shipped.shipped_cache_dir())
        raise CheckpointError(
            f"{spec.display_name} checkpoint not found; put it in {models_dir} (nothing is downloaded)"
        )
    if checkpoint is not None and found is not None and Path(checkpoint).resolve() != Path(found).resolve():
        expected_sha = None
    if onnx_only:
        sha = verify_checkpoint(path, expected_sha)
        record = shipped.shipped_engine(name)
        if record is not None and record["checkpoint_sha256"] == sha:
            return graphs_only(sha, path, shipped.shipped_cache_dir())
        if cache_dir is not None and shipped.has_graphs(cache_dir, sha):
            return graphs_only(sha, path, cache_dir)
    set_torch_threads(threads)
    parts = spec.builder(path, expected_sha)
    return SegmentationEngine(spec, parts, path, threads=threads, cache_dir=cache_dir,
                              encoder_backend=encoder_backend, decoder_backend=decoder_backend)
