"""Test doubles shared by the LLM domain tests and the Chat tab tests (no Qt here)."""

from __future__ import annotations


class ListKnowledgeBase:
    """A knowledge base over a fixed passage list, for tests of the answer pipeline and the Chat tab.

    The real knowledge base is covered by its own tests, the ``ask`` CLI test and the e2e test.
    """

    def __init__(self, passages):
        self.passages = list(passages)

    def search(self, query, k=5, mode="hybrid"):
        return self.passages[:k]

    def is_empty(self):
        return not self.passages

    def current_version(self):
        return None
