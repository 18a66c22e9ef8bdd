"""Conversations in the database: history for prompts, search, review of AI drafts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from medstation.llm import conversations as convo
from medstation.store.tables import AuditEvent


def test_conversation_round_trip_and_search(db):
    first = convo.create_conversation(db, "What is   diabetes?\nPlease explain")
    convo.add_message(db, first, "user", "What is diabetes?")
    convo.add_message(db, first, "assistant", "A disease of high blood glucose [1].", provenance={"cited": [1]})
    second = convo.create_conversation(db, "x" * 200)
    convo.add_message(db, second, "user", "Hypertension treatment?")
    listed = convo.list_conversations(db)
    assert [c.id for c in listed] == [second, first]  # newest activity first
    assert listed[1].title == "What is diabetes? Please explain"
    assert len(listed[0].title) == convo.TITLE_CHARS and listed[0].title.endswith("…")
    assert [c.id for c in convo.list_conversations(db, "GLUCOSE")] == [first]  # message text, any case
    assert [c.id for c in convo.list_conversations(db, "hypertension")] == [second]
    assert convo.list_conversations(db, "no such words") == []
    messages = convo.load_messages(db, first)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].provenance == {"cited": [1]} and messages[1].review_status == "draft"


def test_history_keeps_only_complete_pairs():
    def m(role, content, status="complete"):
        return convo.MessageRecord(id=0, conversation_id=1, role=role, content=content, status=status, mode="chat",
                                   created_at=None)

    records = [m("user", "q1"), m("assistant", "a1"), m("user", "q2"), m("assistant", "partial", "stopped"),
               m("user", "q3"), m("assistant", "", "error"), m("user", "q4"), m("assistant", "a4")]
    assert convo.history_for_prompt(records) == [
        {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q4"}, {"role": "assistant", "content": "a4"},
    ]


def test_review_is_recorded_and_audited(db):
    conversation = convo.create_conversation(db, "q")
    question = convo.add_message(db, conversation, "user", "q")
    answer = convo.add_message(db, conversation, "assistant", "a")
    convo.review_message(db, answer, "accepted", actor="dr.jones")
    stored = convo.get_message(db, answer)
    assert stored.review_status == "accepted" and stored.reviewed_by == "dr.jones"
    with db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "chat.answer.accepted")).all()
    assert [e.entity_id for e in events] == [str(answer)]
    with pytest.raises(ValueError):
        convo.review_message(db, question, "accepted", actor="dr.jones")
    with pytest.raises(ValueError):
        convo.review_message(db, answer, "maybe", actor="dr.jones")
