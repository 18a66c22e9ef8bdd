"""Choosing another model in the Chat tab while one loads: the GUI thread does not wait, and the answer being
written records the model that wrote it (breakchat)."""

from __future__ import annotations

import threading

from medstation.llm.service import LLMService
from medstation.store.model_registry import ModelRegistry


class LoadedFile:
    """Stands for a loaded model: which file it came from."""

    def __init__(self, path):
        self.path = path

    def close(self):
        pass


def _slow_loading_service(settings, db, monkeypatch):
    """A service whose active model ``a.gguf`` takes until ``release`` is set to load; also ``b.gguf`` to pick."""
    registry = ModelRegistry(db)
    a_file, b_file = settings.models_dir / "a.gguf", settings.models_dir / "b.gguf"
    a_file.write_bytes(b"GGUF model a")
    b_file.write_bytes(b"GGUF model b")
    a = registry.register("llm", "a", a_file, status="active")
    llm = LLMService(settings, db, registry=registry)
    loading, release = threading.Event(), threading.Event()

    def slow_load(key):
        loading.set()
        release.wait(60)
        return LoadedFile(key[1])

    monkeypatch.setattr(llm, "_load", slow_load)
    return llm, a, b_file, loading, release


def test_choosing_a_model_while_one_loads_does_not_wait_for_the_load(settings, db, monkeypatch):
    """7d7286b: ``select_model`` (called on the GUI thread by the model selector) took the lock held for the whole
    load, so picking a model while a large GGUF loaded froze the window until the load ended (fails on 7d7286b)."""
    llm, _a, b_file, loading, release = _slow_loading_service(settings, db, monkeypatch)
    worker = threading.Thread(target=llm.backend)
    worker.start()
    try:
        assert loading.wait(30)
        chooser = threading.Thread(target=llm.select_model, args=(b_file,))
        chooser.start()
        chooser.join(5)  # the real selector must return at once; 5 s is generous on a loaded machine
        waited = chooser.is_alive()
    finally:
        release.set()
        worker.join(60)
    chooser.join(60)
    assert not waited, "select_model waited for the model load"
    assert llm.model_path() == b_file  # the choice applies to the next answer


def test_an_answer_records_the_model_that_wrote_it_when_another_is_picked_meanwhile(settings, db, monkeypatch):
    """Guards the fix above: once picking no longer waits, the answer loading model a must still record a's
    registry version, not b's (the version was read after the load, from the choice of that moment)."""
    llm, a, b_file, loading, release = _slow_loading_service(settings, db, monkeypatch)
    got = {}
    worker = threading.Thread(target=lambda: got.update(model=llm.loaded_model()))
    worker.start()
    try:
        assert loading.wait(30)
        llm.select_model(b_file)
    finally:
        release.set()
        worker.join(60)
    backend, version_id = got["model"]
    assert backend.path == str(settings.models_dir / "a.gguf") and version_id == a.id
    assert llm.model_version_id() != a.id  # the next answer is b's
