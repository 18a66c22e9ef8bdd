"""What every chat backend offers, and the generation settings recorded with each answer.

A backend turns a list of chat messages (``{"role": "system"|"user"|"assistant",
"content": str}``) into a stream of text pieces. Two exist:
:class:`~medstation.llm.backends.local.LocalLlamaBackend` (llama.cpp in this process)
and :class:`~medstation.llm.backends.openai_http.OpenAIHttpBackend` (an
OpenAI-compatible server). Both call ``ctx.check()`` for every piece so a stop
request ends generation at the next token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

Message = dict[str, str]


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings. ``temperature == 0`` is greedy decoding (reproducible answers)."""

    max_tokens: int = 384
    temperature: float = 0.0
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ChatBackend(Protocol):
    """A loaded model that can chat. Used from one thread (the ``llm`` lane) at a time."""

    #: Context window in tokens (prompt + answer).
    n_ctx: int
    #: True when :meth:`count_chat_tokens` uses the model's own tokenizer and template.
    exact_token_count: bool

    def describe(self) -> dict[str, Any]:
        """Provenance of the model: backend, name, file or server URL."""

    def count_chat_tokens(self, messages: list[Message]) -> int:
        """Prompt tokens that ``messages`` take once the chat template is applied."""

    def stream_chat(self, ctx, messages: list[Message], settings: GenerationSettings) -> Iterator[str]:
        """Yield answer text pieces; stops at ``ctx.check()`` (raises ``Cancelled``) and closes cleanly."""

    def close(self) -> None:
        """Free the model or connection."""


def estimate_tokens(text: str) -> int:
    """Upper-bound token estimate when the tokenizer is out of reach (remote servers).

    BPE tokenizers of current LLMs average about 4 bytes per token on English
    text and rarely fewer than 2.5 on clinical text full of abbreviations and
    numbers, so dividing UTF-8 bytes by 2.5 over-counts: budgets err on the
    safe side, never overflow.
    """
    return int(len(text.encode("utf-8")) / 2.5) + 1


def estimate_chat_tokens(messages: list[Message]) -> int:
    """:func:`estimate_tokens` over messages plus a per-message allowance for template markers."""
    return sum(estimate_tokens(m["content"]) + 8 for m in messages) + 8
