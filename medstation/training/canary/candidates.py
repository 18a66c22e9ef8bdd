"""The registry's newest candidate per kind, loaded once for shadow runs and blind preference requests.

Which candidate meets real requests: the newest version of the kind whose status
is ``candidate`` (:func:`newest_candidate`). Its model is loaded lazily, in the
lane that first needs it, and kept until another candidate becomes the newest
one (the old one is closed). A llama.cpp backend must not run two generations
at once, so every use goes through :meth:`CandidateModels.using`, a lock per
kind; the segmentation engine locks its own network calls.

Loaders are injectable (``engine_loader(version, settings)``,
``backend_loader(version, db, settings)``) so tests can give a candidate that
fails to load; the defaults are the viewer's ONNX path
(:func:`medstation.segmentation.engine.load_engine`) and the Notes tab's
registry path (:mod:`medstation.notes.model_choice`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from medstation.config import Settings
from medstation.notes.model_choice import load_backend, resolve_version
from medstation.segmentation.engine import load_engine
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry, ModelVersionInfo
from medstation.store.tables import ModelKind, ModelStatus

log = logging.getLogger(__name__)


def newest_candidate(registry: ModelRegistry, kind: ModelKind | str) -> ModelVersionInfo | None:
    """The newest ``candidate`` version of ``kind`` (highest id: registration order), or None."""
    found = [v for v in registry.history(kind) if v.status == ModelStatus.candidate]
    return max(found, key=lambda v: v.id) if found else None


def load_candidate_engine(version: ModelVersionInfo, settings):
    """A SegmentationEngine for a registry version (same ONNX Runtime path as the viewer)."""
    return load_engine(version.meta.get("engine", "litemedsam"), models_dir=settings.models_dir,
                       cache_dir=settings.cache_dir, threads=settings.seg_threads,
                       checkpoint=version.local_file(shared_root=settings.shared_data_root,
                                                     cache_dir=settings.cache_dir))


def load_candidate_backend(version: ModelVersionInfo, db, settings):
    """A local llama.cpp backend for an LLM registry version (a GGUF, a LoRA adapter or a manifest)."""
    return load_backend(resolve_version(db, version.id), settings)


def describe_llm_candidate(version: ModelVersionInfo, db) -> dict[str, Any]:
    """The ``model_info`` a candidate's draft carries in its provenance (as the Notes CLI writes it)."""
    return resolve_version(db, version.id).describe()


class CandidateModels:
    """Loaded candidate models, at most one per kind. Thread-safe; :meth:`close` releases them."""

    def __init__(self, settings: Settings, db: Database, *, engine_loader: Callable | None = None,
                 backend_loader: Callable | None = None) -> None:
        """``engine_loader(version, settings)`` / ``backend_loader(version, db, settings)``: how a candidate is
        loaded (default: the viewer's ONNX engine and the Notes tab's llama.cpp backend; tests pass doubles)."""
        self.settings, self.db = settings, db
        self._engine_loader = engine_loader or load_candidate_engine
        self._backend_loader = backend_loader or load_candidate_backend
        self._locks = {kind.value: threading.RLock() for kind in ModelKind}
        self._loaded: dict[str, tuple[int, Any]] = {}  # kind -> (version id, engine or backend)

    @contextmanager
    def using(self, kind: ModelKind | str) -> Iterator[None]:
        """Hold the kind's candidate model for one request (a second request waits)."""
        with self._locks[ModelKind(kind).value]:
            yield

    def engine(self, version: ModelVersionInfo):
        """The loaded segmentation engine of ``version`` (loads it; raises what the loader raises)."""
        return self._get(ModelKind.segmentation.value, version,
                         lambda: self._engine_loader(version, self.settings))

    def backend(self, version: ModelVersionInfo):
        """The loaded chat backend of LLM ``version`` (loads it; raises what the loader raises)."""
        return self._get(ModelKind.llm.value, version,
                         lambda: self._backend_loader(version, self.db, self.settings))

    def _get(self, kind: str, version: ModelVersionInfo, load: Callable[[], Any]):
        with self._locks[kind]:
            held = self._loaded.get(kind)
            if held is not None and held[0] == version.id:
                return held[1]
            self._release(kind)
            model = load()
            self._loaded[kind] = (version.id, model)
            return model

    def _release(self, kind: str) -> None:
        held = self._loaded.pop(kind, None)
        close = getattr(held[1], "close", None) if held is not None else None
        if callable(close):
            try:
                close()
            except Exception:  # a failing close must not stop the next candidate loading
                log.exception("closing candidate #%s failed", held[0])

    def close(self) -> None:
        for kind, lock in self._locks.items():
            with lock:
                self._release(kind)
