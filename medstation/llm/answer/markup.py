"""Markup a model may echo from its prompt, removed before an answer is shown or checked.

The prompt fences passages as ``<passage id="n" …>`` … ``</passage>`` and the
chat template uses control tokens such as ``<|im_end|>``; a small model sometimes
copies them into its answer (a regenerated answer once began with
``<passage id="1" …>``). None of that is answer text. A ``<passage id="n">``
opening tag becomes a ``[n]`` citation (the model meant that passage);
everything else is dropped.
"""

from __future__ import annotations

import re

from medstation.llm.answer.prompt import FENCE_REPLACEMENT

_PASSAGE_OPEN = re.compile(r"<\s*passage\b[^>]*?\bid\s*=\s*[\"']?(\d{1,3})[\"']?[^>]*>?", re.IGNORECASE)
_ANY_FENCE = re.compile(r"<\s*/?\s*(?:passages?|question|answer|system|user|assistant)\b[^>]*>?", re.IGNORECASE)
_CONTROL = re.compile(r"<\|[^|<>]{0,40}\|>|<\||\|>")
_ATTRIBUTE_DEBRIS = re.compile(r"\b(?:title|source|id)\s*=\s*\"[^\"]*\"\s*>?")


def strip_model_markup(text: str) -> str:
    """``text`` without prompt fences, chat control tokens or their attributes; spacing tidied."""
    text = _PASSAGE_OPEN.sub(lambda m: f" [{m.group(1)}] ", text)
    text = _ANY_FENCE.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    text = _ATTRIBUTE_DEBRIS.sub(" ", text).replace(FENCE_REPLACEMENT, " ")
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r" +([.,;:!?])", r"\1", re.sub(r"\n{3,}", "\n\n", text)).strip()
