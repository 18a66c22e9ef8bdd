"""`--model-version`: a registry version resolves to its GGUF (and adapter), or a clear refusal."""

from __future__ import annotations

import json

import pytest

from medstation.errors import UserFacingError
from medstation.notes.model_choice import resolve_version
from medstation.store.model_registry import ModelRegistry


def test_versions_resolve_to_files(db, tmp_path):
    registry = ModelRegistry(db)
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF not really")
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF adapter")
    manifest = tmp_path / "lora.json"
    manifest.write_text(json.dumps({"base_model": str(base), "adapter": str(adapter)}))
    v_base = registry.register("llm", "base", str(base), sha256="a" * 64)
    v_lora = registry.register("llm", "lora-v1", str(manifest), sha256="b" * 64, parent_id=v_base.id)
    v_seg = registry.register("segmentation", "medsam", str(base), sha256="c" * 64)
    assert resolve_version(db, v_base.id).model_path == base and resolve_version(db, v_base.id).adapter_path is None
    lora = resolve_version(db, v_lora.id)
    assert (lora.model_path, lora.adapter_path, lora.describe()["adapter"]) == (base, adapter, "adapter.gguf")
    with pytest.raises(UserFacingError, match="not a language model"):
        resolve_version(db, v_seg.id)
    with pytest.raises(UserFacingError, match="not in the registry"):
        resolve_version(db, 999)


def test_gguf_adapter_version_uses_the_parent_as_base(db, tmp_path):
    import numpy as np
    from gguf import GGUFWriter

    registry = ModelRegistry(db)
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF base")
    adapter = tmp_path / "adapter.gguf"
    writer = GGUFWriter(str(adapter), "llama")
    writer.add_type("adapter")
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((2, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    v_base = registry.register("llm", "base", str(base), sha256="d" * 64)
    v_adapter = registry.register("llm", "lora", str(adapter), sha256="e" * 64, parent_id=v_base.id)
    choice = resolve_version(db, v_adapter.id)
    assert (choice.model_path, choice.adapter_path) == (base, adapter)
