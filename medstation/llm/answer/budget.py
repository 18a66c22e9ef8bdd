"""Fit a chat prompt into the model's context window, dropping the least useful parts first.

Budget (tokens): ``n_ctx - answer_tokens`` is what the prompt may use. While
the rendered prompt is over budget, drop, in this order:

1. the oldest earlier turn (a user question with its answer, as a pair, so the
   conversation still alternates);
2. the lowest-ranked retrieved passage (passages arrive best first), keeping
   at least one.

If the system message, the question and the best passage still do not fit, the
prompt is refused with :class:`ContextOverflow`; it is never sent over size
(llama.cpp would silently cut the beginning of the prompt). What was dropped is
returned so it can be stored with the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from medstation.llm.backends.base import Message
from medstation.llm.errors import LLMError


class ContextOverflow(LLMError):
    """Even the smallest useful prompt does not fit in the context window."""


@dataclass
class FittedPrompt:
    """The messages to send and what had to go. Passage numbers in the prompt are 1..len(passages)."""

    messages: list[Message]
    passages: list[Any]
    history: list[Message]
    prompt_tokens: int
    answer_tokens: int
    n_ctx: int
    dropped_history_turns: int = 0
    dropped_passages: list[Any] = field(default_factory=list)

    def dropped_summary(self) -> dict[str, Any]:
        return {
            "history_messages": self.dropped_history_turns,
            "passages": [getattr(p, "chunk_id", str(p)) for p in self.dropped_passages],
        }


def _drop_oldest_turn(history: list[Message]) -> int:
    """Remove the oldest user turn and its answer; returns how many messages went."""
    count = 1
    if len(history) > 1 and history[0]["role"] == "user" and history[1]["role"] == "assistant":
        count = 2
    del history[:count]
    return count


def fit_prompt(
    build: Callable[[Sequence[Any], Sequence[Message]], list[Message]],
    count_tokens: Callable[[list[Message]], int],
    passages: Sequence[Any],
    history: Sequence[Message],
    *,
    n_ctx: int,
    answer_tokens: int,
) -> FittedPrompt:
    """Trim ``history`` (oldest first) then ``passages`` (lowest rank first) until the prompt fits.

    ``build(passages, history)`` makes the full message list; ``count_tokens``
    measures it after the chat template is applied. Raises :class:`ContextOverflow`.
    """
    if answer_tokens >= n_ctx:
        raise ContextOverflow(f"Answer budget {answer_tokens} leaves no room in a {n_ctx}-token context")
    limit = n_ctx - answer_tokens
    kept_passages = list(passages)
    kept_history = list(history)
    dropped_passages: list[Any] = []
    dropped_turns = 0
    while True:
        messages = build(kept_passages, kept_history)
        used = count_tokens(messages)
        if used <= limit:
            return FittedPrompt(messages, kept_passages, kept_history, used, answer_tokens, n_ctx,
                                dropped_turns, dropped_passages)
        if kept_history:
            dropped_turns += _drop_oldest_turn(kept_history)
        elif len(kept_passages) > 1:
            dropped_passages.insert(0, kept_passages.pop())
        else:
            raise ContextOverflow(
                f"The question and the best source passage need {used} tokens, but only {limit} of the model's "
                f"{n_ctx}-token context are free after reserving {answer_tokens} for the answer. "
                "Shorten the question or choose a model with a longer context."
            )
