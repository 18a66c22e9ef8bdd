"""An OpenAI-compatible chat server (llama.cpp's server, vLLM, Ollama) over plain HTTP.

Streaming uses server-sent events on ``POST {base_url}/chat/completions`` with
``"stream": true``: each ``data: {json}`` line carries a delta, ``data: [DONE]``
ends the stream. Only the standard library is used (``http.client``), so the
backend works without extra packages. Stopping closes the connection, which
these servers take as the client leaving and stop generating.

The server's tokenizer is out of reach through the OpenAI API, so prompt sizes
are over-estimated (:func:`~medstation.llm.backends.base.estimate_chat_tokens`) and
the provenance says the count was estimated.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from medstation.llm.backends.base import GenerationSettings, Message, estimate_chat_tokens
from medstation.llm.errors import BackendError


ALLOW_REMOTE_SETTING = "MEDSTATION_ALLOW_REMOTE_LLM"


def remote_server_notice(base_url: str) -> str:
    """What the Chat tab says when answers come from a server outside this machine ("" for a loopback one)."""

    host = urlsplit(base_url).hostname or ""
    if is_loopback_host(host):
        return ""
    return (f"Questions, retrieved passages and conversation text are sent to {host}, a server outside this "
            "machine (llm_backend=openai, allowed by MEDSTATION_ALLOW_REMOTE_LLM).")


class RemoteServerRefused(BackendError):
    """The server is not on this machine and sending text off it was not allowed explicitly."""


def is_loopback_host(host: str) -> bool:
    """True for an address that cannot leave this machine: a loopback IP (127.0.0.0/8, ::1) or ``localhost``.

    Other names are not resolved: a name that points at this machine today may point elsewhere tomorrow.
    """
    host = (host or "").strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIHttpBackend:
    """Chat through a server at ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``).

    Prompts hold clinical text, so a server outside this machine is refused unless
    ``allow_remote`` (the ``MEDSTATION_ALLOW_REMOTE_LLM`` setting) says sending it there is intended.
    """

    exact_token_count = False

    def __init__(self, base_url: str, model: str = "", *, api_key: str = "", n_ctx: int = 4096,
                 timeout_s: float = 120.0, allow_remote: bool = False) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError(f"Not an http(s) server address: {base_url!r}")
        if not allow_remote and not is_loopback_host(parts.hostname):
            raise RemoteServerRefused(
                f"The language-model server {base_url} is not on this machine: questions, passages and "
                f"transcripts would be sent to {parts.hostname}. Set {ALLOW_REMOTE_SETTING}=true to allow that "
                "on purpose, or use a server on 127.0.0.1 / localhost.")
        self.base_url = base_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self.model = model
        self.api_key = api_key
        self.n_ctx = n_ctx
        self.timeout_s = timeout_s

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self.timeout_s)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def list_models(self) -> list[str]:
        """Model ids the server offers (``GET /models``)."""
        conn = self._connection()
        try:
            conn.request("GET", f"{self._prefix}/models", headers=self._headers())
            response = conn.getresponse()
            body = response.read()
        except OSError as exc:
            raise BackendError(f"Cannot reach the model server at {self.base_url}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise BackendError(f"Model server answered {response.status} to /models")
        return [m.get("id", "") for m in json.loads(body).get("data", [])]

    def describe(self) -> dict[str, Any]:
        return {"backend": "openai", "name": self.model or "(server default)", "base_url": self.base_url,
                "n_ctx": self.n_ctx}

    def count_chat_tokens(self, messages: list[Message]) -> int:
        return estimate_chat_tokens(messages)

    def stream_chat(self, ctx, messages: list[Message], settings: GenerationSettings) -> Iterator[str]:
        payload = {
            "messages": messages,
            "stream": True,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "seed": settings.seed,
        }
        if self.model:
            payload["model"] = self.model
        conn = self._connection()
        try:
            try:
                conn.request("POST", f"{self._prefix}/chat/completions", body=json.dumps(payload),
                             headers=self._headers())
                response = conn.getresponse()
            except OSError as exc:
                raise BackendError(f"Cannot reach the model server at {self.base_url}: {exc}") from exc
            if response.status != 200:
                detail = response.read(2000).decode("utf-8", errors="replace")
                raise BackendError(f"Model server answered {response.status}: {detail}")
            yield from self._read_events(ctx, response)
        finally:
            conn.close()  # on stop, dropping the connection tells the server to stop generating

    @staticmethod
    def _read_events(ctx, response) -> Iterator[str]:
        while True:
            ctx.check()
            raw = response.readline()
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments and event names carry no text
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise BackendError(f"Model server sent malformed event: {data[:200]}") from exc
            if "error" in chunk:
                raise BackendError(f"Model server error: {chunk['error']}")
            choices = chunk.get("choices") or [{}]
            piece = (choices[0].get("delta") or {}).get("content")
            if piece:
                yield piece

    def close(self) -> None:
        """Nothing is held between requests."""
