"""The Chat tab's conversation, Qt-free: the optimistic message list, the live answer and the regeneration policy.

:class:`Conversation` is the state behind one chat view and the rules that change it; the tab renders it
and runs its jobs (``*_job`` methods, each ``job(ctx, ...)``) in the runner's lanes, so the GUI thread never
reads or writes the database. Two kinds of methods:

* jobs (worker thread): :meth:`Conversation.list_job`, :meth:`~Conversation.load_job`,
  :meth:`~Conversation.answer_job`, :meth:`~Conversation.review_job`, :meth:`~Conversation.latest_job`;
* state changes (GUI thread, no I/O): :meth:`~Conversation.ask`, :meth:`~Conversation.ask_case`,
  :meth:`~Conversation.regeneration`, :meth:`~Conversation.loaded`, :meth:`~Conversation.refused`, ...

Optimistic list: a question is shown at once as a user message with ``id == 0`` (not stored yet); the stored
conversation replaces the list when the answer is stored or stopped; a refused question (never stored) is taken
back out and handed back to the user.

Regeneration policy: the last question of the conversation is asked again with ``temperature`` 0.7 and a seed
equal to the number of answers so far (each regeneration differs from the last, and is reproducible from the
stored provenance); a reasoning-mode question keeps its case description.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from medstation.llm.answer import message_store as store
from medstation.llm.answer.message_store import (
    ACCEPTABLE, ConversationRecord, MessageRecord, MessageRole, MessageStatus, ReviewDecision, ReviewStatus,
)
from medstation.llm.answer.provenance import passage_record
from medstation.llm.answer.rag_answer import answer_question
from medstation.llm.answer.reasoning import CaseDescription
from medstation.llm.backends.base import GenerationSettings
from medstation.llm.support import cited_in
from medstation.rag.types import clean_question
from medstation.store.database import Database

REGENERATE_TEMPERATURE = 0.7  # a second try should differ from the first (the default is greedy)
UNSTORED = 0  # ``MessageRecord.id`` of a question shown before it is stored


@dataclass(frozen=True)
class AnswerRequest:
    """One answer to run: the question, where it goes, and how (``generation`` None: the model's defaults)."""

    question: str
    conversation_id: int | None
    regenerate: bool = False
    generation: GenerationSettings | None = None
    case: CaseDescription | None = None


@dataclass(frozen=True)
class PassageView:
    """A passage to show in the side panel: its provenance record, number, cited or not, and the answer's
    provenance (None for an answer still being written)."""

    record: dict[str, Any]
    number: int
    state: str  # "cited" | "uncited"
    provenance: Any = None


class Conversation:
    """One chat conversation's state and rules. ``db``: the conversations' database; ``llm``: LLMService;
    ``kb``: the knowledge base the answers retrieve from."""

    def __init__(self, *, db: Database, llm: Any, kb: Any) -> None:
        self.db = db
        self.llm = llm
        self.kb = kb
        self.conversation_id: int | None = None
        self.messages: list[MessageRecord] = []
        self.live_text = ""  # the answer being streamed, as received so far
        self.live_passages: list = []  # the passages that answer retrieved (numbered from 1)
        self.asked_question = ""

    # --- jobs (worker thread) ----------------------------------------------------------------

    def list_job(self, ctx, text_filter: str = "") -> list[ConversationRecord]:
        return store.list_conversations(self.db, text_filter)

    def latest_job(self, ctx) -> int | None:
        """The most recent conversation's id (an answer stopped before its id came back), or None."""
        records = store.list_conversations(self.db, limit=1)
        return records[0].id if records else None

    def load_job(self, ctx, conversation_id: int) -> list[MessageRecord]:
        return store.load_messages(self.db, conversation_id)

    def answer_job(self, ctx, request: AnswerRequest, answer_mode: str | None = None):
        """Retrieve, answer, check and store (``llm`` lane); returns the stored answer's result."""
        return answer_question(ctx, self.llm, self.kb, self.db, request.question,
                               conversation_id=request.conversation_id, generation=request.generation,
                               case=request.case, regenerate=request.regenerate, answer_mode=answer_mode)

    def review_job(self, ctx, decision: ReviewDecision) -> None:
        store.review_message(self.db, decision)

    # --- state changes (GUI thread, no I/O) ----------------------------------------------------

    def clear(self) -> None:
        """A new, empty conversation (not stored until its first question is answered)."""
        self.conversation_id = None
        self.messages = []
        self.live_text = ""

    def open(self, conversation_id: int) -> None:
        """Show ``conversation_id`` next; its messages arrive through :meth:`loaded`."""
        self.conversation_id = conversation_id

    def loaded(self, messages: list[MessageRecord]) -> bool:
        """Messages read by :meth:`load_job`; False (and nothing changes) when they belong to a conversation the
        user has since left."""
        if messages and messages[0].conversation_id != self.conversation_id:
            return False
        self.messages = list(messages)
        self.live_text = ""
        return True

    def ask(self, question: str, *, case: CaseDescription | None = None) -> AnswerRequest:
        """Show ``question`` at once (not stored yet) and return the answer to run (the question without
        invisible direction controls: :func:`~medstation.rag.types.clean_question`)."""
        question = clean_question(question)
        self.messages.append(MessageRecord(UNSTORED, self.conversation_id or 0, MessageRole.user, question,
                                           MessageStatus.complete, "reasoning" if case else "chat", None))
        return self._begin(AnswerRequest(question, self.conversation_id, case=case))

    def ask_case(self, case: CaseDescription) -> AnswerRequest:
        """A differential is its own conversation: start a new one with the case as its question."""
        self.clear()
        return self.ask(case.as_question(), case=case)

    def can_regenerate(self) -> bool:
        return self.conversation_id is not None

    def regeneration(self) -> AnswerRequest | None:
        """The request that answers the last question again (None: nothing to regenerate yet)."""
        question = next((m for m in reversed(self.messages) if m.role is MessageRole.user), None)
        if question is None or self.conversation_id is None:
            return None
        attempts = sum(1 for m in self.messages if m.role is MessageRole.assistant)
        generation = replace(self.llm.generation_defaults(), temperature=REGENERATE_TEMPERATURE, seed=attempts)
        case = None
        if question.mode == "reasoning":
            case_fields = next((m.provenance.case for m in reversed(self.messages)
                                if m.provenance is not None and m.provenance.case), None)
            case = CaseDescription(**case_fields) if case_fields else None
        return self._begin(AnswerRequest(question.content, self.conversation_id, regenerate=True,
                                         generation=generation, case=case))

    def _begin(self, request: AnswerRequest) -> AnswerRequest:
        self.asked_question = request.question
        self.live_text = ""
        self.live_passages = []
        return request

    def partial(self, event) -> str | None:
        """A streamed event of the answer job; returns the text piece to append to the view (None: none)."""
        if event.kind == "sources":
            self.live_passages = list(event.payload)
        elif event.kind == "token":
            self.live_text += event.payload
            return event.payload
        return None

    def stored(self, result) -> None:
        """The answer was stored: its conversation is the one shown (a first question made it)."""
        self.conversation_id = result.conversation_id

    def refused(self) -> str | None:
        """The answer job failed: take back a question that was never stored; returns its text to hand back to
        the user (None: the last message was stored, nothing to hand back)."""
        self.live_text = ""
        if self.messages and self.messages[-1].id == UNSTORED:
            self.messages.pop()
            return self.asked_question
        return None

    # --- reading the conversation --------------------------------------------------------------

    def last_answer(self) -> MessageRecord | None:
        """The last stored assistant message (None: no answer yet)."""
        return next((m for m in reversed(self.messages) if m.role is MessageRole.assistant and m.id), None)

    def can_accept(self) -> bool:
        last = self.last_answer()
        return last is not None and last.status in ACCEPTABLE

    def review(self, decision: ReviewStatus, actor: str) -> ReviewDecision:
        """The review of the last answer by ``actor``; raises ``ReviewRefused`` (a stopped answer) or LLMError."""
        last = self.last_answer()
        if last is None:
            raise store.ReviewRefused("There is no answer to review yet.")
        return store.decide_review(last, decision, actor)

    def shown_key(self, answering: bool) -> str:
        """Which answer's passages the side panel refers to: "live" while one is written, else the last id."""
        last = self.last_answer()
        return "live" if answering or last is None else str(last.id)

    def passage(self, key: str, n: int) -> PassageView | None:
        """Passage ``n`` (from 1) of answer ``key`` ("live" or a message id); None when there is no such one."""
        if key == "live":
            if 1 <= n <= len(self.live_passages):
                state = "cited" if n in cited_in(self.live_text) else "uncited"
                return PassageView(passage_record(n, self.live_passages[n - 1]), n, state)
            return None
        message = next((m for m in self.messages if str(m.id) == key), None)
        prov = message.provenance if message else None
        if prov is not None and 1 <= n <= len(prov.passages):
            return PassageView(prov.passages[n - 1], n, "cited" if n in prov.cited else "uncited", prov)
        return None
