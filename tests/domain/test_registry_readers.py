"""The LLM and segmentation services read the registry's active version each time: no restart after a promotion."""

from __future__ import annotations

from medstation.access.roles import UserSession
from medstation.jobs import JobContext
from medstation.llm.backends.catalogue import describe_model, embedded_model_path, register_model
from medstation.llm.service import LLMService
from medstation.segmentation.service import SegmentationService
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus
from tests.domain.test_llm_gguf import LLAMA_META, write_gguf
from tests.seg_support import seed_onnx_cache

ADMIN = "ada"  # the registry records an actor name


def test_llm_answers_with_the_newly_promoted_model(settings, db):
    registry = ModelRegistry(db)
    llm = LLMService(settings, db, registry=registry)
    first = write_gguf(settings.models_dir / "first.gguf", LLAMA_META)
    second = write_gguf(settings.models_dir / "second.gguf", {**LLAMA_META, "general.name": "second"})
    register_model(registry, describe_model(first, "embedded"), "1" * 64)  # the active one on a fresh install
    candidate = register_model(registry, describe_model(second, "user"), "2" * 64)
    assert llm.model_path() == first
    registry.promote(candidate, ADMIN)
    assert llm.model_path() == second  # the same service object, no restart
    registry.rollback(ModelKind.llm, ADMIN)
    assert llm.model_path() == first


def test_llm_falls_back_to_the_embedded_model_when_nothing_is_active(settings, db):
    assert LLMService(settings, db, registry=ModelRegistry(db)).model_path() == embedded_model_path()


def test_segmentation_engine_follows_promotion_and_rollback(settings, db):
    seed_onnx_cache(settings.cache_dir)
    registry = ModelRegistry(db)
    service = SegmentationService(settings, db, registry=registry, session=UserSession.from_os_user())
    loaded = service.ensure_engine(JobContext())
    base = registry.active(ModelKind.segmentation)
    assert base is not None and service.model_version_id() == base.id and service.engine() is loaded
    weights = settings.models_dir / "tuned.pth"
    weights.write_bytes(b"fine-tuned weights")
    tuned = registry.register(ModelKind.segmentation, "LiteMedSAM tuned", weights, parent_id=base.id,
                              meta={"engine": "litemedsam"}, source="fine-tuned")
    registry.promote(tuned.id, ADMIN)
    assert service.engine() is None  # the loaded engine is not the active version any more
    registry.rollback(ModelKind.segmentation, ADMIN)
    assert service.engine() is loaded  # back to the version that is loaded: nothing to reload
    assert registry.get(tuned.id).status == ModelStatus.retired
