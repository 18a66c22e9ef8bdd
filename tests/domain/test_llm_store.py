"""Conversations in the database: history for prompts, search, review of AI drafts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from medstation.llm.answer import message_store as convo
from medstation.llm.answer.message_store import MessageRole, MessageStatus, ReviewStatus
from medstation.llm.answer.provenance import AnswerProvenance
from medstation.llm.support import SentenceSupport
from medstation.store.tables import AuditEvent


def test_conversation_round_trip_and_search(db):
    first = convo.create_conversation(db, "What is   diabetes?\nPlease explain")
    convo.add_message(db, first, "user", "What is diabetes?")
    prov = AnswerProvenance(passages=({"n": 1, "title": "Diabetes", "text": "high blood glucose"},),
                            sentences=(SentenceSupport("A disease of high blood glucose.", True, (1,)),))
    convo.add_message(db, first, "assistant", "A disease of high blood glucose [1].", provenance=prov)
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
    assert messages[1].provenance == prov and messages[1].review_status is ReviewStatus.draft
    assert messages[0].provenance is None and messages[1].provenance.cited == (1,)


def test_history_keeps_only_complete_pairs():
    def m(role, content, status="complete"):
        return convo.MessageRecord(id=0, conversation_id=1, role=MessageRole(role), content=content,
                                   status=MessageStatus(status), mode="chat", created_at=None)

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
    decision = convo.decide_review(convo.get_message(db, answer), "accepted", "dr.jones")
    assert decision == convo.ReviewDecision(answer, ReviewStatus.accepted, "dr.jones")
    convo.review_message(db, decision)
    stored = convo.get_message(db, answer)
    assert stored.review_status is ReviewStatus.accepted and stored.reviewed_by == "dr.jones"
    with db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "chat.answer.accepted")).all()
    assert [e.entity_id for e in events] == [str(answer)]
    with pytest.raises(convo.ReviewRefused, match="Only a stored AI answer"):
        convo.decide_review(convo.get_message(db, question), "accepted", "dr.jones")
    with pytest.raises(ValueError):
        convo.decide_review(stored, "maybe", "dr.jones")


def test_a_stopped_answer_can_be_rejected_but_not_accepted(db):
    conversation = convo.create_conversation(db, "q")
    stopped = convo.get_message(db, convo.add_message(db, conversation, "assistant", "par",
                                                      status=MessageStatus.stopped))
    with pytest.raises(convo.ReviewRefused, match="stopped: it cannot be accepted"):
        convo.decide_review(stopped, ReviewStatus.accepted, "dr.jones")
    assert convo.decide_review(stopped, ReviewStatus.rejected, "dr.jones").decision is ReviewStatus.rejected


def test_provenance_round_trips_and_reads_schema_1_rows():
    prov = AnswerProvenance(sentences=(SentenceSupport("x y z.", False, (), (2,), ("z",)),), finish="length",
                            passages=({"n": 1, "chunk_id": "c"}, {"n": 2, "chunk_id": "d"}))
    data = prov.to_json()
    assert data["schema_version"] == 2 and data["support"] == {"sentences": 1, "supported": 0, "unsupported": 1}
    assert AnswerProvenance.from_json(data) == prov
    old = AnswerProvenance.from_json({"passages": [{"n": 1}], "cited": [1], "matched": [{"n": 1, "sentence": "s"}]})
    assert old.sentences[0].supported is False and old.sentences[0].model_citations == (1,)
