"""all-MiniLM-L6-v2 as an ONNX graph: export once, check its checksum, run it with ONNX Runtime.

The graph maps ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64, ``(batch, tokens)``)
to ``last_hidden_state`` (float32, ``(batch, tokens, 384)``); mean pooling over the attention
mask and L2 normalisation happen in numpy (:func:`mean_pool`), exactly as sentence-transformers'
pooling module does. Tokenising uses the fast ``tokenizers`` library from the model folder's
``tokenizer.json``, so neither torch nor transformers is imported at run time.

Where the graph lives: ``<cache>/onnx/minilm-<weights sha256[:16]>/model.onnx`` with a
``model.onnx.json`` beside it recording the graph's sha256 and the weights it came from. A
source install exports it at first use (torch is there); a frozen build ships the exported file
and points ``onnx_path`` at it, so it never needs torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Where exported graphs are shared by every data folder of this user (a test's fresh MEDSTATION_HOME too):
# the file is named by the weights' checksum and carries its own record, so sharing is safe.
CACHE_ENV = "MEDSTATION_ONNX_CACHE"


def shared_cache_dir() -> Path:
    """``$MEDSTATION_ONNX_CACHE`` or the user's cache folder (``~/.cache/MedStation`` on Linux)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("MedStation", appauthor=False))


def default_onnx_path(cache_dir: Path, weights_sha256: str) -> Path:
    return Path(cache_dir) / "onnx" / f"minilm-{weights_sha256[:16]}" / "model.onnx"


def record_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".json")


def verified(onnx_path: Path, weights_sha256: str) -> bool:
    """True when the graph exists, matches its recorded checksum and came from these weights."""
    record = record_path(onnx_path)
    if not (onnx_path.is_file() and record.is_file()):
        return False
    try:
        meta = json.loads(record.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("weights_sha256") == weights_sha256 and meta.get("onnx_sha256") == file_sha256(onnx_path)


def export_minilm(model_dir: Path, onnx_path: Path, weights_sha256: str) -> Path:
    """Trace the transformer (no pooling) to ``onnx_path`` with dynamic batch and token axes.

    Atomic: written to a temporary name and renamed, and the checksum record is written last,
    so a half-written or interrupted export is never taken for a finished one.
    """
    import warnings

    import torch
    from transformers import AutoModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class HiddenStates(torch.nn.Module):
        """Keyword call (BertModel's positional order changes between transformers versions), one output."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids, return_dict=True).last_hidden_state

    model = HiddenStates().eval()
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = onnx_path.with_name(f"{onnx_path.stem}.{os.getpid()}.tmp.onnx")
    dummy = torch.ones((2, 8), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (dummy, dummy, torch.zeros_like(dummy)), str(tmp), input_names=list(INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )
    tmp.replace(onnx_path)
    meta = {"weights_sha256": weights_sha256, "onnx_sha256": file_sha256(onnx_path), "opset": OPSET,
            "torch": torch.__version__, "source": str(model_dir)}
    tmp_record = record_path(onnx_path).with_suffix(f".{os.getpid()}.tmp")
    tmp_record.write_text(json.dumps(meta, indent=1))
    tmp_record.replace(record_path(onnx_path))
    return onnx_path


def make_session(path: Path, threads: int):
    """A CPU session with ``threads`` intra-op threads and no busy-waiting.

    Same settings as the segmentation backends' sessions (rag may not import segmentation, so
    the few lines are repeated): idle ORT workers otherwise spin on a core after each run, the
    core llama.cpp needs while an answer streams on a 2-core workstation.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_tokenizer(model_dir: Path, max_tokens: int):
    """Fast WordPiece tokenizer: truncation at ``max_tokens``, padding to the longest text of each batch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    # tokenizer.json ships fixed 128-token padding; dynamic padding keeps short batches short.
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]", length=None)
    return tokenizer


def tokenize(tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    """int64 arrays ``(len(texts), longest)`` keyed by the graph's input names."""
    encodings = tokenizer.encode_batch(list(texts))
    return {
        "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
    }


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(batch, tokens, dim)`` hidden states and ``(batch, tokens)`` mask -> ``(batch, dim)`` unit vectors."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
