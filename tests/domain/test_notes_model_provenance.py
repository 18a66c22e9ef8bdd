"""A note draft records the model that wrote it, read once when the model is loaded.

The drafting factory loaded the backend, then asked separately which version was chosen: a model picked in the
Chat tab between the two calls was recorded as the draft's author although another model wrote it (the Chat tab's
own answers were fixed the same way, with ``LLMService.loaded_model``). Both the app's factory and the
``notes draft`` command's now read the pair at once. ``test_the_draft_records_the_version_that_was_loaded`` and
``test_the_command_records_the_version_that_was_loaded`` fail on 7d7286b.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from medstation.commands import notes as notes_command
from medstation.notes.service import NotesService


class _Backend:
    path = Path("/models/loaded.gguf")


class SwitchingLLM:
    """The loaded model is version 7; by the time anyone asks again, the choice is version 8."""

    def model_path(self):
        return Path("/models/chosen-before.gguf")

    def loaded_model(self, ctx=None):
        return _Backend(), 7

    def backend(self):
        return _Backend()

    def model_version_id(self):
        return 8

    def close(self):
        pass


def test_the_draft_records_the_version_that_was_loaded():
    factory, info = NotesService._backend_factory(SimpleNamespace(llm=SwitchingLLM()))
    backend = factory()
    assert isinstance(backend, _Backend)
    assert info["version_id"] == 7
    assert info["file"] == "loaded.gguf" and info["name"] == "loaded"


def test_the_command_records_the_version_that_was_loaded(monkeypatch):
    import medstation.llm.service as llm_service
    import medstation.store.model_registry as model_registry

    monkeypatch.setattr(llm_service, "LLMService", lambda *a, **k: SwitchingLLM())
    monkeypatch.setattr(model_registry, "ModelRegistry", lambda db: None)
    args = SimpleNamespace(model_version=None)
    factory, info, _close = notes_command._backend_factory(args, SimpleNamespace(), None)
    factory()
    assert info["version_id"] == 7 and info["file"] == "loaded.gguf"
