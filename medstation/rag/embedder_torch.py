"""The sentence-transformers (torch) MiniLM: the reference the ONNX embedder is checked against.

Not used by the app any more (``Embedder`` runs ONNX); kept for the agreement test, the
export check and the ingestion benchmark, which compare both in the same run.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medstation.rag.embedder import MAX_TOKENS, MODEL_NAME, BaseEmbedder


class TorchEmbedder(BaseEmbedder):
    """Thread-safe wrapper; the model loads on the first ``encode`` call (about 1 s)."""

    runtime = "torch"

    def __init__(self, directory: Path | None = None, *, batch_size: int = 64, max_tokens: int = MAX_TOKENS) -> None:
        super().__init__(directory, batch_size=batch_size, max_tokens=max_tokens)
        self.name = f"{MODEL_NAME} (max {max_tokens} tokens)"
        self._model = None

    @property
    def identity(self) -> str:
        """Weights and truncation length: the identity every knowledge base ingested before the ONNX switch carries."""
        return f"{self.sha256}|max_tokens={self.max_tokens}"

    def _load(self):
        if self._model is None:
            # Never reach for the network: the weights are on disk.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(self.directory), device="cpu")
            model.max_seq_length = self.max_tokens
            self._model = model
        return self._model

    def encode(self, texts: list[str], *, threads: int | None = None) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors; ``threads`` caps torch's intra-op threads for this call."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            model = self._load()
            import torch

            previous = torch.get_num_threads()
            if threads is not None:
                torch.set_num_threads(threads)
            try:
                vectors = model.encode(
                    list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            finally:
                if threads is not None:
                    torch.set_num_threads(previous)
        return np.asarray(vectors, dtype=np.float32)
