"""Run the encoder and decoder head with torch or ONNX Runtime.

Both back-ends expose the same two calls on numpy arrays:

* ``encode(x)``: x float32 (1, 3, S, S) in [0, 1] → embedding float32 (1, 256, 64, 64);
* ``decode(embedding, coords, labels)``: coords (1, N, 2) model-frame pixels,
  labels (1, N) → (logits (1, 1, 256, 256), iou (1, 1)).

ONNX exports are cached under ``<cache_dir>/onnx/<checkpoint sha256>/`` so they are
made once per checkpoint (about 10 s for LiteMedSAM's encoder on two cores) and
never go stale when the weights change. On two CPU cores ONNX Runtime runs the
LiteMedSAM encoder about 2–3× faster than eager torch (see
``benchmarks/bench_segmentation.py``); torch is the fallback when onnx/onnxruntime
are missing or the export fails.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from medstation.segmentation.decoder_head import HEAD_GRAPH_VERSION
from medstation.segmentation.networks import SamParts

log = logging.getLogger(__name__)

_TORCH_THREADS_LOCK = threading.Lock()


def set_torch_threads(threads: int) -> None:
    import torch

    with _TORCH_THREADS_LOCK:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(max(1, int(threads)))


class TorchEncoder:
    name = "torch"

    def __init__(self, parts: SamParts, threads: int) -> None:
        self._module = parts.image_encoder
        self._threads = threads

    def encode(self, x: np.ndarray) -> np.ndarray:
        import torch

        set_torch_threads(self._threads)
        with torch.inference_mode():
            return self._module(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()


class TorchDecoder:
    name = "torch"

    def __init__(self, parts: SamParts, threads: int) -> None:
        self._head = parts.decoder_head
        self._threads = threads

    def decode(self, embedding: np.ndarray, coords: np.ndarray, labels: np.ndarray):
        import torch

        set_torch_threads(self._threads)
        with torch.inference_mode():
            logits, iou = self._head(torch.from_numpy(embedding), torch.from_numpy(coords), torch.from_numpy(labels))
        return logits.numpy(), iou.numpy()


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    # No busy-waiting: ONNX Runtime's idle workers otherwise spin on a core after each run, and on
    # a 2-core machine that core is the one llama.cpp needs while an answer streams (the prefetch
    # has stopped by then, its threads have not).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _export(module, args: tuple, path: Path, input_names, output_names, dynamic_axes=None) -> None:
    """Export atomically: a half-written file must never be mistaken for a cached model."""
    import warnings

    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about python asserts in TinyViT
        torch.onnx.export(
            module, args, str(tmp), input_names=input_names, output_names=output_names,
            dynamic_axes=dynamic_axes, opset_version=17, dynamo=False,
        )
    tmp.replace(path)


def onnx_dir(cache_dir: Path, parts_or_sha256) -> Path:
    """Where the ONNX exports of one checkpoint live (``parts_or_sha256``: SamParts or its sha256)."""
    sha = parts_or_sha256 if isinstance(parts_or_sha256, str) else parts_or_sha256.sha256
    return Path(cache_dir) / "onnx" / sha


class OnnxEncoder:
    name = "onnx"

    def __init__(self, parts: SamParts, threads: int, cache_dir: Path) -> None:
        path = onnx_dir(cache_dir, parts) / "encoder.onnx"
        if not path.is_file():
            import torch  # only to export: a cached or shipped graph runs without it

            log.info("exporting %s encoder to ONNX at %s", parts.sha256[:12], path)
            dummy = torch.zeros(1, 3, parts.input_size, parts.input_size)
            _export(parts.image_encoder, (dummy,), path, ["image"], ["embedding"])
        self.path = path
        self._session = _session(path, threads)

    def encode(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"image": np.ascontiguousarray(x, np.float32)})[0]


class OnnxDecoder:
    name = "onnx"

    def __init__(self, parts: SamParts, threads: int, cache_dir: Path) -> None:
        from medstation.segmentation.decoder_head import HEAD_GRAPH_VERSION

        path = onnx_dir(cache_dir, parts) / f"decoder-{HEAD_GRAPH_VERSION}.onnx"
        if not path.is_file():
            import torch  # only to export: a cached or shipped graph runs without it

            for stale in path.parent.glob("decoder*.onnx"):  # exports of an older head graph
                if ".tmp." not in stale.name:  # another process may be writing its own export
                    stale.unlink(missing_ok=True)
            emb = torch.zeros(1, 256, 64, 64)
            coords = torch.tensor([[[10.0, 10.0], [100.0, 100.0]]])
            labels = torch.tensor([[2.0, 3.0]])
            _export(
                parts.decoder_head, (emb, coords, labels), path, ["embedding", "coords", "labels"], ["logits", "iou"],
                dynamic_axes={"coords": {1: "n_points"}, "labels": {1: "n_points"}},
            )
        self.path = path
        self._session = _session(path, threads)

    def decode(self, embedding: np.ndarray, coords: np.ndarray, labels: np.ndarray):
        logits, iou = self._session.run(None, {"embedding": embedding, "coords": coords, "labels": labels})
        return logits, iou


def make_backends(parts: SamParts, *, threads: int, cache_dir: Path | None, encoder: str = "auto", decoder: str = "auto"):
    """(encoder runner, decoder runner, notes). ``auto`` = ONNX Runtime if it can be built, else torch."""
    notes: list[str] = []

    def pick(kind: str, choice: str, onnx_cls, torch_cls):
        if choice in ("auto", "onnx") and cache_dir is not None:
            try:
                return onnx_cls(parts, threads, cache_dir)
            except Exception as exc:  # onnx missing, export unsupported: torch still works
                if choice == "onnx":
                    raise
                notes.append(f"ONNX {kind} unavailable ({exc.__class__.__name__}: {exc}); using torch")
                log.warning("ONNX %s unavailable, falling back to torch: %s", kind, exc)
        return torch_cls(parts, threads)

    enc = pick("encoder", encoder, OnnxEncoder, TorchEncoder)
    dec = pick("decoder", decoder, OnnxDecoder, TorchDecoder)
    return enc, dec, notes
