"""llama.cpp in this process, through llama-cpp-python.

The model's own chat template (GGUF key ``tokenizer.chat_template``) formats
the conversation: llama-cpp-python picks it up when no ``chat_format`` is given.
Token counting renders the same template with the same special tokens and runs
the model's tokenizer, so the context budget is exact, not estimated.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medstation.llm.backends.base import GenerationSettings, Message
from medstation.llm.backends.cpu_share import runnable_others, threads_for_answer
from medstation.llm.errors import ModelLoadError, ModelUnavailable
from medstation.llm.backends.gguf import GGUFError, read_gguf_header

log = logging.getLogger(__name__)


class LocalLlamaBackend:
    """A GGUF model loaded by llama.cpp. Build it in the ``llm`` lane: loading takes ~1 s per 100 MB."""

    exact_token_count = True
    #: Why the last ``stream_chat`` ended: "stop" (end of answer), "length" (token limit) or None.
    last_finish_reason: str | None = None

    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_threads: int = 2, name: str = "",
                 lora_path: str | Path | None = None, adapt_threads: bool = True) -> None:
        """``lora_path``: an optional GGUF LoRA adapter (a registry version's file) applied at scale 1.

        ``adapt_threads``: before each answer use fewer than ``n_threads`` when other work is running
        (:mod:`medstation.llm.backends.cpu_share`); False always uses ``n_threads`` (benchmarks)."""
        path = Path(model_path)
        if not path.is_file():
            raise ModelUnavailable(f"Model file not found: {path}")
        if lora_path is not None and not Path(lora_path).is_file():
            raise ModelUnavailable(f"LoRA adapter file not found: {lora_path}")
        try:
            header = read_gguf_header(path)
        except GGUFError as exc:
            raise ModelUnavailable(f"Model file is not usable: {exc}") from exc
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable("llama-cpp-python is not installed, so local models cannot run") from exc
        trained_ctx = header.context_length or n_ctx
        self.n_ctx = min(n_ctx, trained_ctx)
        self.path = path
        self.name = name or header.name
        self.quantization = header.quantization
        self.adapter_path = Path(lora_path) if lora_path is not None else None
        self.n_threads = max(1, int(n_threads))
        self.adapt_threads = adapt_threads
        self.threads_in_use = self.n_threads  # what the last answer ran with (provenance, benchmarks)
        # held while a thread decodes with the model: close() must not free llama.cpp under it (see close)
        self._in_use = threading.Lock()
        self._close_pending = False
        lora = {"lora_path": str(self.adapter_path)} if self.adapter_path is not None else {}
        try:
            self.llama = Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=n_threads, verbose=False, **lora)
        except Exception as exc:  # llama.cpp reports every load failure as ValueError/RuntimeError/OSError
            extra = f" with adapter {self.adapter_path.name}" if self.adapter_path is not None else ""
            raise ModelLoadError(f"llama.cpp could not load {path.name}{extra}: {exc}") from exc
        self._formatter = self._make_formatter()

    def _make_formatter(self):
        """The same Jinja formatter llama-cpp-python builds from the GGUF template, for exact counting."""
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def special_text(token_id: int) -> str:
            if token_id == -1:
                return ""
            return self.llama.detokenize([token_id], special=True).decode("utf-8", errors="replace")

        return Jinja2ChatFormatter(template=template, eos_token=special_text(self.llama.token_eos()),
                                   bos_token=special_text(self.llama.token_bos()))

    def describe(self) -> dict[str, Any]:
        info = {"backend": "local", "name": self.name, "file": self.path.name, "quantization": self.quantization,
                "n_ctx": self.n_ctx}
        if self.adapter_path is not None:
            info["adapter"] = self.adapter_path.name
        return info

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render_prompt(self, messages: list[Message]) -> str:
        """The prompt text the chat template makes of ``messages`` (with the assistant turn opened)."""
        if self._formatter is None:  # no template in the file: llama-cpp-python falls back to its default
            return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
        return self._formatter(messages=messages).prompt

    def count_chat_tokens(self, messages: list[Message]) -> int:
        return self.count_tokens(self.render_prompt(messages))

    def _fit_threads(self, *, start: bool) -> None:
        """Set llama.cpp's thread count (see :mod:`medstation.llm.backends.cpu_share`).

        At the ``start`` of an answer it may go down; later calls (between pieces) only go back up,
        once what was running at the start has finished — typically a background slice that was
        already in flight when the answer began and that stops before the next one. Later calls
        sample once: between pieces this thread is the one that runs llama.cpp, so it is not busy."""
        if not self.adapt_threads or (not start and self.threads_in_use >= self.n_threads):
            return
        from llama_cpp import llama_cpp as capi

        others = runnable_others() if start else runnable_others(samples=1)
        threads = threads_for_answer(self.n_threads, os.cpu_count() or self.n_threads, others)
        if not start:
            threads = max(threads, self.threads_in_use)
        if threads != self.threads_in_use:
            capi.llama_set_n_threads(self.llama.ctx, threads, threads)
            self.threads_in_use = threads

    def stream_chat(self, ctx, messages: list[Message], settings: GenerationSettings) -> Iterator[str]:
        try:
            with self._in_use:
                yield from self._stream(ctx, messages, settings)
        finally:
            if self._close_pending:  # the app closed while this answer was written: free the model now
                self.close()

    def _stream(self, ctx, messages: list[Message], settings: GenerationSettings) -> Iterator[str]:
        self._fit_threads(start=True)
        stream = self.llama.create_chat_completion(
            messages=messages,
            stream=True,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p,
            repeat_penalty=settings.repeat_penalty,
            seed=settings.seed,
        )
        self.last_finish_reason = None
        pieces = 0
        try:
            for chunk in stream:
                ctx.check()
                if pieces % 16 == 0:  # after the prompt, then now and then: back up to all threads once free
                    self._fit_threads(start=False)
                pieces += 1
                choice = chunk["choices"][0]
                self.last_finish_reason = choice.get("finish_reason") or self.last_finish_reason
                piece = choice["delta"].get("content")
                if piece:
                    yield piece
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops llama.cpp's decode loop now, not at the next token request

    def close(self) -> None:
        """Free the model; while another thread is inside it (reading a long prompt has no cancellation point,
        and the window stops waiting after 5 s) only mark it, and that thread frees it when its answer ends:
        freeing it under the decode would crash the process on exit."""
        in_use = getattr(self, "_in_use", None)
        if in_use is not None and not in_use.acquire(blocking=False):
            self._close_pending = True
            log.info("the language model is still answering; it is freed when that answer ends")
            return
        try:
            llama = getattr(self, "llama", None)
            if llama is not None:
                llama.close()
                self.llama = None
        finally:
            if in_use is not None:
                in_use.release()
