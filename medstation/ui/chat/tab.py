"""Chat tab (placeholder until the chat issue lands)."""

from __future__ import annotations

from medstation.ui.planned_tab import PlannedTab


class ChatTab(PlannedTab):
    def __init__(self, services, runner) -> None:
        super().__init__(
            "Chat — for clinicians",
            [
                "Questions answered by a local LLM from the clinic's own knowledge base.",
                "Every claim carries numbered citations that open the source passage.",
            ],
        )
