"""``LLMService``: the model catalogue, the chosen model, and the lazily loaded backend.

Built cheaply in ``app.py``; nothing is loaded until :meth:`LLMService.backend`
is called from a job in the ``llm`` lane. Which model answers:

1. the one picked in the Chat tab's selector (:meth:`select_model`), else
2. the registry's active version of kind ``llm`` when its file is on disk (read
   on every answer, so a promotion applies without a restart); a LoRA adapter
   version (``meta["adapter"]``, e.g. a fine-tuned drafting adapter) runs on its
   parent version's GGUF (else the embedded model) with the adapter loaded, else
3. the embedded SmolLM2-135M-Instruct.

With ``settings.llm_backend == "openai"`` answers come from the
OpenAI-compatible server at ``settings.openai_base_url`` instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from medstation.config import Settings
from medstation.llm.backends.base import ChatBackend, GenerationSettings
from medstation.llm.backends.catalogue import (
    HashCache,
    active_model_path,
    describe_model,
    embedded_model_path,
    register_model,
)
from medstation.llm.errors import ModelUnavailable
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Choice:
    """The model the next answer uses, read once: ``key`` names the backend to load; ``path`` the local GGUF
    (None for a server); ``adapter`` (version id, base GGUF, adapter file) for an active LoRA adapter version."""

    key: tuple
    path: Path | None = None
    adapter: tuple[int, Path, Path] | None = None


class LLMService:
    """One per app. ``backend()``, ``loaded_model()`` and ``model_version_id()`` run in the ``llm`` lane only.

    Two locks: ``_choice_lock`` guards the selector's choice only (the GUI thread takes it, never for long);
    ``_lock`` is held while a model loads (seconds to minutes for a large GGUF), so choosing another model
    while one loads must not wait on it: the new choice applies to the next answer."""

    def __init__(self, settings: Settings, db: Database, *, registry: ModelRegistry) -> None:
        """``registry``: the app's one model registry (from the composition root)."""
        self.settings = settings
        self.db = db
        self.registry = registry
        self._lock = threading.RLock()
        self._choice_lock = threading.Lock()
        self._selected: Path | None = None
        self._backend: ChatBackend | None = None
        self._backend_key: tuple | None = None
        self._hashes = HashCache(settings.cache_dir / "model_hashes.json")

    # --- catalogue ---------------------------------------------------------------------------

    def select_model(self, path: str | Path | None) -> None:
        """Use ``path`` for the next answers (None: back to the default choice)."""
        with self._choice_lock:
            self._selected = Path(path) if path else None

    def model_path(self) -> Path | None:
        """The file the next local answer will use, or None when no model is available."""
        with self._choice_lock:
            if self._selected is not None:
                return self._selected
        if self.settings.llm_model:
            for folder in (self.settings.models_dir, Path(self.settings.llm_model).parent):
                candidate = folder / Path(self.settings.llm_model).name
                if candidate.is_file():
                    return candidate
        adapter = self._active_adapter()
        if adapter is not None:
            return adapter[1]
        return active_model_path(self.registry, self.settings) or embedded_model_path()

    def _active_adapter(self) -> tuple[int, Path, Path] | None:
        """(version id, base GGUF, adapter file) when the default choice is an active LoRA adapter version."""
        with self._choice_lock:
            if self._selected is not None or self.settings.llm_model:
                return None
        active = self.registry.active(ModelKind.llm)
        if active is None or not (active.meta or {}).get("adapter") or not active.file.is_file():
            return None
        parent = self.registry.get(active.parent_id) if active.parent_id else None
        base = parent.file if parent is not None and parent.file.is_file() else embedded_model_path()
        return (active.id, base, active.file) if base is not None else None

    def default_answer_mode(self) -> str:
        """``grounded`` for the embedded 135M model (it invents facts in prose), ``generative`` for a larger
        model the user chose or a server. Returns an :class:`~medstation.llm.answer.provenance.AnswerMode` value."""
        if self.settings.llm_backend == "openai":
            return "generative"
        path = self.model_path()
        return "grounded" if path is None or path == embedded_model_path() else "generative"

    def generation_defaults(self) -> GenerationSettings:
        return GenerationSettings(max_tokens=self.settings.llm_max_tokens)

    # --- loading (llm lane) ------------------------------------------------------------------

    def _choice(self) -> _Choice:
        """The current choice, read once (a later read could see a model picked in between)."""
        s = self.settings
        if s.llm_backend == "openai":
            return _Choice(("openai", s.openai_base_url, s.openai_model))
        path = self.model_path()
        if path is None:
            raise ModelUnavailable(
                "No language model is available: the embedded SmolLM2 package is missing and no .gguf file "
                f"is in {s.models_dir}."
            )
        adapter = self._active_adapter()
        key = ("local", str(path), s.llm_n_ctx, s.llm_threads) + ((str(adapter[2]),) if adapter else ())
        return _Choice(key, path, adapter)

    def backend(self, ctx=None) -> ChatBackend:
        """The loaded backend for the current choice; loads or swaps the model when the choice changed.

        Raises :class:`~medstation.llm.errors.ModelUnavailable` / ``ModelLoadError`` with a plain message.
        """
        return self._backend_for(self._choice(), ctx)

    def loaded_model(self, ctx=None) -> tuple[ChatBackend, int | None]:
        """(loaded backend, registry id of that very model) for the current choice, read once: the version an
        answer records is the model that wrote it, even when another model is picked while this one loads."""
        choice = self._choice()
        return self._backend_for(choice, ctx), self._version_for(choice, ctx)

    def _backend_for(self, choice: _Choice, ctx) -> ChatBackend:
        key = choice.key
        with self._lock:
            if self._backend is not None and self._backend_key == key:
                return self._backend
            self._close_backend()
            if ctx is not None:
                ctx.report(0.02, f"Loading language model {Path(key[1]).name}")
            self._backend = self._load(key)
            self._backend_key = key
            return self._backend

    def attach_backend(self, backend: ChatBackend) -> None:
        """Use an already loaded backend for the current model choice (benchmarks, tests: load once, reuse)."""
        key = self._choice().key
        with self._lock:
            self._backend = backend
            self._backend_key = key

    def _load(self, key: tuple) -> ChatBackend:
        if key[0] == "openai":
            from medstation.llm.backends.openai_http import OpenAIHttpBackend

            s = self.settings
            return OpenAIHttpBackend(s.openai_base_url, s.openai_model, api_key=s.openai_api_key, n_ctx=s.llm_n_ctx,
                                     allow_remote=s.allow_remote_llm)
        from medstation.llm.backends.local import LocalLlamaBackend

        info = describe_model(Path(key[1]), "user")
        if len(key) > 4:  # an active LoRA adapter version on its base model
            return LocalLlamaBackend(key[1], n_ctx=key[2], n_threads=key[3], name=info.name, lora_path=key[4])
        return LocalLlamaBackend(key[1], n_ctx=key[2], n_threads=key[3], name=info.name)

    def model_version_id(self, ctx=None) -> int | None:
        """Registry id of the local model in use (hashing it once); None for a remote server."""
        if self.settings.llm_backend == "openai":
            return None
        try:
            choice = self._choice()
        except ModelUnavailable:
            return None
        return self._version_for(choice, ctx)

    def _version_for(self, choice: _Choice, ctx) -> int | None:
        if choice.key[0] == "openai":
            return None
        if choice.adapter is not None:  # the adapter version is what drafts (its base is recorded in its parent)
            return choice.adapter[0]
        path = choice.path
        if path is None or not path.is_file():
            return None
        source = "embedded" if path == embedded_model_path() else "user"
        info = describe_model(path, source)
        return register_model(self.registry, info, self._hashes.sha256(path, ctx))

    def _close_backend(self) -> None:
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception:  # a failing close must not block loading the next model
                log.exception("closing the language model failed")
        self._backend = None
        self._backend_key = None

    def close(self) -> None:
        with self._lock:
            self._close_backend()
