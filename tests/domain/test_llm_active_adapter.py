"""An active LoRA adapter version drafts on its parent's GGUF, and is the version recorded; rollback undoes it."""

from __future__ import annotations

from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.service import LLMService
from medstation.store.model_registry import ModelRegistry

ADMIN = "ann"  # the registry records an actor name


def test_active_adapter_runs_on_its_base(settings, db):
    registry = ModelRegistry(db)
    base_file = settings.models_dir / "base.gguf"
    base_file.write_bytes(b"GGUF base model")
    adapter_file = settings.models_dir / "lora.gguf"
    adapter_file.write_bytes(b"GGUF adapter")
    base = registry.register("llm", "base", base_file, status="active")
    lora = registry.register("llm", "LoRA", adapter_file, parent_id=base.id, meta={"adapter": True})
    llm = LLMService(settings, db, registry=registry)
    assert llm.model_path() == base_file and llm.model_version_id() == base.id
    registry.promote(lora.id, ADMIN)
    assert llm.model_path() == base_file  # the adapter is never loaded as a model of its own
    assert llm._active_adapter() == (lora.id, base_file, adapter_file) and llm.model_version_id() == lora.id
    (settings.models_dir / "o.gguf").write_bytes(b"GGUF other adapter")
    orphan = registry.register("llm", "LoRA without parent", settings.models_dir / "o.gguf", meta={"adapter": True})
    registry.rollback("llm", ADMIN)
    assert llm.model_path() == base_file and llm.model_version_id() == base.id
    registry.promote(orphan.id, ADMIN)
    assert llm.model_path() == embedded_model_path()  # no parent: the embedded model is the base
