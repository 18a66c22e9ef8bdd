"""The Chat tab's Qt-free conversation: optimistic list, refused questions, regeneration policy, passages, review."""

from __future__ import annotations

import pytest

from medstation.jobs import JobContext
from medstation.llm.answer import message_store as store
from medstation.llm.answer.conversation import REGENERATE_TEMPERATURE, UNSTORED, AnswerRequest, Conversation
from medstation.llm.answer.message_store import MessageRole, ReviewRefused, ReviewStatus
from medstation.llm.answer.rag_answer import StreamEvent
from medstation.llm.answer.reasoning import CaseDescription
from tests.domain.test_llm_answer_edges import OneDocKb, ScriptedBackend, ScriptedLLM


class RecordingBackend(ScriptedBackend):
    """Scripted pieces; remembers the generation settings of every answer it was asked for."""

    def __init__(self, pieces):
        super().__init__(pieces)
        self.settings_seen = []

    def stream_chat(self, ctx, messages, settings):
        self.settings_seen.append(settings)
        yield from super().stream_chat(ctx, messages, settings)


@pytest.fixture
def chat(db):
    backend = RecordingBackend(["Gout is caused by uric acid ", "crystals [1]."])
    return Conversation(db=db, llm=ScriptedLLM(backend), kb=OneDocKb()), backend


def _answer(conversation, request):
    """What the tab does: run the answer job, then reload the stored conversation."""
    result = conversation.answer_job(JobContext(), request, "generative")
    conversation.stored(result)
    assert conversation.loaded(conversation.load_job(JobContext(), conversation.conversation_id))
    return result


def test_a_question_is_shown_at_once_then_replaced_by_the_stored_conversation(chat):
    conversation, _ = chat
    request = conversation.ask("What causes gout?")
    assert request == AnswerRequest("What causes gout?", None)
    assert [(m.id, m.role, m.content) for m in conversation.messages] == [(UNSTORED, MessageRole.user,
                                                                            "What causes gout?")]
    assert conversation.last_answer() is None and not conversation.can_regenerate()
    result = _answer(conversation, request)
    assert conversation.conversation_id == result.conversation_id
    assert [m.role for m in conversation.messages] == [MessageRole.user, MessageRole.assistant]
    assert all(m.id > 0 for m in conversation.messages)  # nothing optimistic is left
    assert conversation.last_answer().content == result.text and conversation.can_accept()
    follow_up = conversation.ask("And its treatment?")
    assert follow_up.conversation_id == result.conversation_id  # later questions go to the same conversation


def test_a_refused_question_is_taken_back_and_handed_back(chat):
    conversation, _ = chat
    conversation.ask("What causes gout?")
    conversation.partial(StreamEvent("token", "Gout "))
    assert conversation.refused() == "What causes gout?"
    assert conversation.messages == [] and conversation.live_text == ""


def test_a_failure_after_the_question_was_stored_hands_nothing_back(chat):
    conversation, _ = chat
    _answer(conversation, conversation.ask("What causes gout?"))
    shown = list(conversation.messages)
    assert conversation.refused() is None
    assert conversation.messages == shown


def test_messages_of_a_conversation_left_meanwhile_are_ignored(chat, db):
    conversation, _ = chat
    first = store.create_conversation(db, "first")
    store.add_message(db, first, "user", "q1")
    second = store.create_conversation(db, "second")
    store.add_message(db, second, "user", "q2")
    conversation.open(first)
    late = conversation.load_job(JobContext(), first)
    conversation.open(second)  # the user clicked another conversation before the read came back
    assert conversation.loaded(late) is False and conversation.messages == []
    assert conversation.loaded(conversation.load_job(JobContext(), second))
    assert [m.content for m in conversation.messages] == ["q2"]


def test_streamed_tokens_build_the_live_text_and_sources_the_live_passages(chat):
    conversation, _ = chat
    conversation.ask("What causes gout?")
    assert conversation.partial(StreamEvent("sources", OneDocKb.passages)) is None
    assert conversation.partial(StreamEvent("token", "Crystals ")) == "Crystals "
    assert conversation.partial(StreamEvent("token", "[1].")) == "[1]."
    assert conversation.live_text == "Crystals [1]."
    shown = conversation.passage("live", 1)
    assert shown.state == "cited" and shown.record["chunk_id"] == "c1" and shown.provenance is None
    assert conversation.passage("live", 2) is None
    assert conversation.shown_key(answering=True) == "live"


def test_regeneration_asks_the_last_question_again_with_a_new_seed_each_time(chat):
    conversation, backend = chat
    assert conversation.regeneration() is None  # nothing asked yet
    _answer(conversation, conversation.ask("What causes gout?"))
    first = conversation.regeneration()
    assert first.question == "What causes gout?" and first.regenerate
    assert first.conversation_id == conversation.conversation_id
    assert (first.generation.temperature, first.generation.seed) == (REGENERATE_TEMPERATURE, 1)
    assert first.generation.max_tokens == ScriptedLLM(None).generation_defaults().max_tokens
    _answer(conversation, first)
    assert backend.settings_seen[-1].temperature == REGENERATE_TEMPERATURE and backend.settings_seen[-1].seed == 1
    assert [m.role for m in conversation.messages] == [MessageRole.user, MessageRole.assistant,
                                                       MessageRole.assistant]  # no second copy of the question
    second = conversation.regeneration()
    assert second.generation.seed == 2  # two answers so far: a different try again


def test_regenerating_a_differential_keeps_its_case(chat):
    conversation, _ = chat
    case = CaseDescription("joint pain in the big toe", "", "raised uric acid")
    request = conversation.ask_case(case)
    assert request.case == case and conversation.messages[0].mode == "reasoning"
    _answer(conversation, request)
    again = conversation.regeneration()
    assert again.case == case and again.question == case.as_question()


def test_a_new_case_starts_its_own_conversation(chat):
    conversation, _ = chat
    _answer(conversation, conversation.ask("What causes gout?"))
    request = conversation.ask_case(CaseDescription("fever", "", ""))
    assert request.conversation_id is None and len(conversation.messages) == 1


def test_stored_passages_and_review_of_the_last_answer(chat, db):
    conversation, _ = chat
    result = _answer(conversation, conversation.ask("What causes gout?"))
    key = conversation.shown_key(answering=False)
    assert key == str(result.message_id)
    shown = conversation.passage(key, 1)
    assert shown.provenance is not None and shown.record["title"] == "Gout"
    assert shown.state == ("cited" if 1 in shown.provenance.cited else "uncited")
    verdict = conversation.review(ReviewStatus.accepted, "dr.jones")
    conversation.review_job(JobContext(), verdict)
    assert store.get_message(db, result.message_id).review_status is ReviewStatus.accepted


def test_nothing_to_review_is_refused_plainly(chat):
    conversation, _ = chat
    with pytest.raises(ReviewRefused):
        conversation.review(ReviewStatus.accepted, "dr.jones")


def test_clear_forgets_the_conversation_shown(chat):
    conversation, _ = chat
    _answer(conversation, conversation.ask("What causes gout?"))
    conversation.clear()
    assert conversation.conversation_id is None and conversation.messages == [] and not conversation.can_regenerate()
    assert conversation.latest_job(JobContext()) is not None  # the stored one is still found


def test_invisible_direction_overrides_are_removed_from_a_pasted_question(chat, db):
    """breakchat: a question pasted from a right-to-left record with a U+202E override showed reversed in the
    conversation and the history ("?amhtsa si tahW") and was stored so (fails on 7d7286b). Explicit direction
    controls and zero-width spaces go; Arabic or Hebrew text itself and the joiners Persian needs stay."""
    conversation, _ = chat
    request = conversation.ask("\u202eWhat causes gout?\u202c\u200b")
    assert request.question == "What causes gout?" and conversation.messages[-1].content == "What causes gout?"
    result = _answer(conversation, request)
    assert store.list_conversations(db)[0].title == "What causes gout?"
    assert store.load_messages(db, result.conversation_id)[0].content == "What causes gout?"
    assert conversation.ask("\u2067ما هو النقرس؟\u2069 gout").question == "ما هو النقرس؟ gout"
    assert conversation.ask("می\u200cخواهم gout").question == "می\u200cخواهم gout"
