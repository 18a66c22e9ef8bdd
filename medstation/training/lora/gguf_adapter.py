"""LoRA weights trained in Hugging Face layout, written as a GGUF LoRA adapter for llama.cpp.

File layout (what ``llama_adapter_lora_init`` in llama.cpp checks):

* ``general.architecture`` equal to the base model's (``llama``), ``general.type = "adapter"``,
  ``adapter.type = "lora"``, ``adapter.lora.alpha`` (float32). llama.cpp scales each delta by
  ``alpha / rank`` (rank = rows of ``lora_a``), the same scaling peft uses.
* Per adapted weight ``W`` of the base GGUF (e.g. ``blk.3.attn_q.weight``) two float32 tensors
  ``blk.3.attn_q.weight.lora_a`` and ``.lora_b``. In numpy (row-major) shape they are
  ``A: (rank, in_features)`` and ``B: (out_features, rank)`` — exactly peft's ``lora_A.weight`` and
  ``lora_B.weight`` — so GGML sees ``a.ne = [in, rank]`` and ``b.ne = [rank, out]`` and computes
  ``y += scale * B @ (A @ x)``.

Q/K row order: the GGUF converter reorders the output rows of ``attn_q`` / ``attn_k`` so that each
head's rotary pairs are adjacent (llama.cpp's "normal" RoPE), whereas Hugging Face Llama pairs row
``j`` with row ``j + head_dim/2`` (rotate-half). ``lora_model.load_base_model`` undoes that reordering
(:func:`to_hf_rows`), so a LoRA trained on the loaded model lives in Hugging Face order. ``B``'s rows are output rows,
so the same reordering is applied to ``B`` of q/k; ``A`` (input side) is untouched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARCHITECTURE = "llama"

# Hugging Face Llama module (inside model.layers.N) -> GGUF tensor stem (inside blk.N).
HF_TO_GGUF_MODULE = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
GGUF_TO_HF_MODULE = {stem: module for module, stem in HF_TO_GGUF_MODULE.items()}
_LAYER_MODULE = re.compile(r"(?:^|\.)layers\.(\d+)\.(self_attn\.\w+_proj|mlp\.\w+_proj)$")


class AdapterFormatError(ValueError):
    """An adapter that cannot be written or read as a llama.cpp LoRA adapter."""


@dataclass(frozen=True)
class LoraPair:
    """One adapted weight, in Hugging Face layout: ``delta_W = (alpha / rank) * b @ a``.

    ``a``: (rank, in_features) float32; ``b``: (out_features, rank) float32.
    """

    a: np.ndarray
    b: np.ndarray


def gguf_tensor_name(hf_module: str) -> str:
    """``model.layers.3.self_attn.q_proj`` (any prefix) -> ``blk.3.attn_q.weight``."""
    match = _LAYER_MODULE.search(hf_module)
    if match is None or match.group(2) not in HF_TO_GGUF_MODULE:
        raise AdapterFormatError(f"no GGUF tensor for module {hf_module!r}")
    return f"blk.{match.group(1)}.{HF_TO_GGUF_MODULE[match.group(2)]}.weight"


def to_llama_cpp_rows(rows: np.ndarray, n_heads: int) -> np.ndarray:
    """Reorder the output rows of a q/k projection from Hugging Face to llama.cpp order.

    ``rows``: (n_heads * head_dim, ...). Within each head, HF row ``s * head_dim/2 + j`` (s in {0, 1})
    becomes GGUF row ``2 * j + s``: the two halves of the head are interleaved.
    """
    head_dim = rows.shape[0] // n_heads
    if head_dim * n_heads != rows.shape[0] or head_dim % 2:
        raise AdapterFormatError(f"{rows.shape[0]} rows do not split into {n_heads} heads of even size")
    split = rows.reshape(n_heads, 2, head_dim // 2, *rows.shape[1:])
    return np.ascontiguousarray(np.swapaxes(split, 1, 2).reshape(rows.shape))


def to_hf_rows(rows: np.ndarray, n_heads: int) -> np.ndarray:
    """Inverse of :func:`to_llama_cpp_rows`: GGUF row ``2 * j + s`` back to HF row ``s * head_dim/2 + j``."""
    head_dim = rows.shape[0] // n_heads
    split = rows.reshape(n_heads, head_dim // 2, 2, *rows.shape[1:])
    return np.ascontiguousarray(np.swapaxes(split, 1, 2).reshape(rows.shape))


def write_lora_adapter(
    path: str | Path,
    pairs: dict[str, LoraPair],
    *,
    alpha: float,
    n_heads: int,
    n_kv_heads: int,
    name: str = "",
    extra: dict[str, str] | None = None,
) -> Path:
    """Write ``pairs`` (keyed by HF module name) as a GGUF LoRA adapter at ``path``; returns the path.

    ``n_heads`` / ``n_kv_heads``: attention heads of the base model, for the q / k row reordering.
    ``extra``: string metadata stored under ``medstation.*`` (training provenance). The file is
    written beside its destination and renamed into place, so a crash never leaves half an adapter.
    """
    import gguf

    if not pairs:
        raise AdapterFormatError("no LoRA weights to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    writer = gguf.GGUFWriter(tmp, arch=ARCHITECTURE)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    if name:
        writer.add_name(name)
    for key, value in (extra or {}).items():
        writer.add_string(f"medstation.{key}", str(value))
    for hf_module in sorted(pairs, key=_layer_order):
        pair = pairs[hf_module]
        tensor = gguf_tensor_name(hf_module)
        a = np.asarray(pair.a, dtype=np.float32)
        b = np.asarray(pair.b, dtype=np.float32)
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterFormatError(f"{hf_module}: A {a.shape} and B {b.shape} do not share a rank")
        if ".attn_q." in tensor:
            b = to_llama_cpp_rows(b, n_heads)
        elif ".attn_k." in tensor:
            b = to_llama_cpp_rows(b, n_kv_heads)
        writer.add_tensor(f"{tensor}.lora_a", np.ascontiguousarray(a))
        writer.add_tensor(f"{tensor}.lora_b", np.ascontiguousarray(b))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    os.replace(tmp, path)
    return path


def _layer_order(hf_module: str) -> tuple[int, str]:
    match = _LAYER_MODULE.search(hf_module)
    return (int(match.group(1)), match.group(2)) if match else (-1, hf_module)


@dataclass(frozen=True)
class AdapterInfo:
    """What a GGUF LoRA adapter file declares. ``tensors``: GGUF weight name -> (A shape, B shape) in numpy order."""

    architecture: str
    alpha: float
    rank: int
    tensors: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]
    metadata: dict[str, str]


def read_lora_adapter(path: str | Path) -> AdapterInfo:
    """Read an adapter's header and tensor shapes back (for checks and the registry), not its weights."""
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise AdapterFormatError(f"{path}: not a readable GGUF file ({exc})") from exc

    def field(key: str):
        item = reader.fields.get(key)
        return None if item is None else item.contents()

    if field("general.type") != "adapter" or field("adapter.type") != "lora":
        raise AdapterFormatError(f"{path}: not a GGUF LoRA adapter")
    shapes: dict[str, list] = {}
    for tensor in reader.tensors:
        stem, _, part = tensor.name.rpartition(".")
        # GGUFReader reports shapes in GGML order (ne0 first); numpy order is the reverse.
        shapes.setdefault(stem, [None, None])[0 if part == "lora_a" else 1] = tuple(int(n) for n in tensor.shape[::-1])
    ranks = {a[0] for a, _ in shapes.values()}
    metadata = {k[len("medstation."):]: str(field(k)) for k in reader.fields if k.startswith("medstation.")}
    return AdapterInfo(
        architecture=str(field("general.architecture")),
        alpha=float(field("adapter.lora.alpha")),
        rank=ranks.pop() if len(ranks) == 1 else -1,
        tensors={k: (v[0], v[1]) for k, v in shapes.items()},
        metadata=metadata,
    )
