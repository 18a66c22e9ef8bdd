"""Which LLM drafts a note: the default choice of :class:`~medstation.llm.service.LLMService`, or a registry version.

A registry version (``--model-version ID``) is either a full GGUF model or a
LoRA adapter. An adapter's version file is a GGUF whose ``general.type`` is
``adapter``, or a JSON manifest ``{"base_model": PATH, "adapter": PATH}``; the
base model is the manifest's, else the parent version's file, else the
embedded model. The adapter is passed to the local backend as ``lora_path``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.errors import UserFacingError
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.backends.local import LocalLlamaBackend
from medstation.store.tables import ModelVersion


@dataclass(frozen=True)
class ModelChoice:
    """``model_path``: the GGUF to load; ``adapter_path``: a LoRA adapter on top, or None."""

    version_id: int | None
    name: str
    model_path: Path
    adapter_path: Path | None = None

    def describe(self) -> dict[str, Any]:
        return {"version_id": self.version_id, "name": self.name, "file": self.model_path.name,
                "adapter": self.adapter_path.name if self.adapter_path else None}


def _version(db, version_id: int):
    """(path, parent_id, name, kind) of a registry version (one row read; None when there is none)."""
    with db.session() as s:
        row = s.get(ModelVersion, version_id)
        return None if row is None else (row.path, row.parent_id, row.name, getattr(row.kind, "value", row.kind))


def _is_adapter(path: Path) -> bool:
    try:
        from gguf import GGUFReader

        field = GGUFReader(str(path)).fields.get("general.type")
        if field is None:
            return False
        return bytes(field.parts[field.data[0]]).decode("utf-8", "replace") == "adapter"
    except Exception:  # an unreadable header: treat as a model and let llama.cpp say what is wrong
        return False


def resolve_version(db, version_id: int) -> ModelChoice:
    """The files of registry version ``version_id``; raises UserFacingError when it cannot draft."""
    found = _version(db, version_id)
    if found is None:
        raise UserFacingError(f"Model version {version_id} is not in the registry (see `medstation models list`).")
    path_s, parent_id, name, kind = found
    if kind != "llm":
        raise UserFacingError(f"Model version {version_id} is a {kind} model, not a language model.")
    path = Path(path_s)
    if not path.exists():
        raise UserFacingError(f"The file of model version {version_id} is missing: {path}.")
    if path.suffix.lower() == ".json":
        manifest = json.loads(path.read_text())
        base = Path(manifest.get("base_model") or "")
        adapter = Path(manifest["adapter"]) if manifest.get("adapter") else None
        if not base.is_file():
            base = _parent_or_embedded(db, parent_id)
        return ModelChoice(version_id, name, base, adapter)
    if _is_adapter(path):
        return ModelChoice(version_id, name, _parent_or_embedded(db, parent_id), path)
    return ModelChoice(version_id, name, path, None)


def _parent_or_embedded(db, parent_id: int | None) -> Path:
    if parent_id is not None:
        found = _version(db, parent_id)
        if found is not None and Path(found[0]).is_file():
            return Path(found[0])

    path = embedded_model_path()
    if path is None:
        raise UserFacingError("The adapter's base model is missing and no embedded model is installed.")
    return path


def load_backend(choice: ModelChoice, settings):
    """A local backend for ``choice`` (llm lane). An adapter needs a backend that accepts ``lora_path``."""
    kwargs: dict[str, Any] = {"n_ctx": min(settings.llm_n_ctx, 2048), "n_threads": settings.llm_threads,
                              "name": choice.name}
    if choice.adapter_path is not None:
        if "lora_path" not in inspect.signature(LocalLlamaBackend.__init__).parameters:
            raise UserFacingError("This build's local LLM backend cannot load LoRA adapters yet, so model version "
                                  f"{choice.version_id} cannot draft.")
        kwargs["lora_path"] = str(choice.adapter_path)
    return LocalLlamaBackend(choice.model_path, **kwargs)
