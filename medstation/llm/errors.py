"""Errors the LLM layer raises, each with a sentence a clinician can act on."""

from __future__ import annotations

from medstation.errors import UserFacingError


class LLMError(UserFacingError, RuntimeError):
    """Base class: the message is shown to the user as is."""


class ModelUnavailable(LLMError):
    """No usable model: the file is missing, not a GGUF, or llama-cpp-python is not installed."""


class ModelLoadError(LLMError):
    """llama.cpp refused the file (corrupt, truncated, unsupported architecture, out of memory)."""


class BackendError(LLMError):
    """The OpenAI-compatible server could not be reached or answered with an error."""
