"""Closing the app while an answer is being written: the model is not freed under the thread decoding with it
(breakchat)."""

from __future__ import annotations

import threading

import pytest

from medstation.jobs import JobContext
from medstation.llm.backends.base import GenerationSettings
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.backends.local import LocalLlamaBackend


class StuckLlama:
    """Stands in for llama.cpp busy reading a long prompt (no token yet): it returns when ``release`` is set."""

    def __init__(self, real):
        self.real = real
        self.reading, self.release = threading.Event(), threading.Event()
        self.closed_while_reading = False

    def create_chat_completion(self, **_kwargs):
        def chunks():
            self.reading.set()
            self.release.wait(60)
            yield {"choices": [{"delta": {"content": "Asthma"}, "finish_reason": "stop"}]}
        return chunks()

    def close(self):
        self.closed_while_reading = self.reading.is_set() and not self.release.is_set()
        self.real.close()


@pytest.mark.skipif(embedded_model_path() is None, reason="needs the embedded SmolLM2 package")
def test_closing_while_a_prompt_is_read_does_not_free_the_model_under_it():
    """7d7286b: the window's close waits 5 s for the llm lane, then closes the services, and the backend freed
    llama.cpp's model at once, also while the lane's thread was still inside it reading a long prompt (no
    ``ctx.check`` runs there): a use-after-free at exit (fails on 7d7286b). Now ``close`` leaves a model in use
    to the thread using it; the thread frees it when its answer ends."""
    backend = LocalLlamaBackend(embedded_model_path(), n_ctx=512, n_threads=1, adapt_threads=False)
    stuck = StuckLlama(backend.llama)
    backend.llama = stuck
    pieces = []
    worker = threading.Thread(target=lambda: pieces.extend(
        backend.stream_chat(JobContext(), [{"role": "user", "content": "Asthma?"}], GenerationSettings(max_tokens=4))))
    worker.start()
    try:
        assert stuck.reading.wait(30)
        backend.close()  # the app exiting
        assert not stuck.closed_while_reading
    finally:
        stuck.release.set()
        worker.join(60)
    assert pieces == ["Asthma"] and backend.llama is None  # freed by the thread once its answer ended
