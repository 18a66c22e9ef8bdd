"""HTML of the conversation view: escaping, checked sentences with exact links, unsupported marks, differentials."""

from __future__ import annotations

from datetime import datetime, timezone

from medstation.llm.answer.message_store import MessageRecord, MessageRole, MessageStatus
from medstation.llm.answer.provenance import AnswerMode, AnswerProvenance
from medstation.llm.support import SentenceSupport
from medstation.ui.chat.render import render_answer, render_conversation, render_passage


def answer(content, mode="chat", status=MessageStatus.complete, model_version_id=None, **prov):
    prov.setdefault("passages", ({"title": "T1"}, {"title": "T2"}))
    return MessageRecord(id=7, conversation_id=1, role=MessageRole.assistant, content=content, status=status,
                         mode=mode, created_at=datetime.now(timezone.utc), model_version_id=model_version_id,
                         kb_version_id=prov.get("kb_version_id"), provenance=AnswerProvenance(**prov))


def test_supported_sentences_link_their_passage_and_unsupported_ones_are_marked():
    sentences = (SentenceSupport("Use <b>insulin</b>.", True, (2,)),
                 SentenceSupport("Or dialysis.", False, (), (1,), ("dialysis",)))
    html = render_answer(answer("Use <b>insulin</b> [2]. Or dialysis [1].", sentences=sentences,
                                answer_mode=AnswerMode.generative))
    assert 'Use &lt;b&gt;insulin&lt;/b&gt; [<a class="cite" href="cite:7:2">2</a>].' in html
    assert "<b>insulin</b>" not in html
    assert 'href="cite:7:1"' not in html  # the model's citation of an unsupported sentence is not a link
    assert 'Or dialysis. <b>[unsupported]</b>' in html and "missing: dialysis" in html
    assert "1 of 2 sentences are not supported" in html and "Generative answer" in html
    assert "AI draft — decision support, verify against the sources" in html


def test_stopped_truncated_and_flagged_answers_say_so():
    html = render_answer(answer("Partial", status=MessageStatus.stopped,
                                removed_markers=({"marker": "[9]", "invalid": [9]},)))
    assert "stopped by the user" in html and "[9]" in html
    assert "cut short at the token limit" in render_answer(answer("Long", status=MessageStatus.truncated))


def test_not_in_the_knowledge_base_reply():
    html = render_answer(answer("Not in the knowledge base. No stored passage covers it.",
                                status=MessageStatus.not_in_knowledge_base))
    assert "<b>Not in the knowledge base.</b> No stored passage covers it." in html and "AI draft" not in html


def test_differential_lists_items_or_says_none_was_found():
    items = ({"rank": 1, "diagnosis": "Asthma", "rationale": "wheeze <night>", "citations": [1],
              "absent_findings_named": ["fever"]},)
    html = render_answer(answer("1. Asthma — wheeze [1]", mode="reasoning", differential=items))
    assert "<b>Asthma</b>" in html and "wheeze &lt;night&gt;" in html and 'href="cite:7:1"' in html
    assert "not a diagnosis" in html and "absent in this case: fever" in html
    html = render_answer(answer("no list here", mode="reasoning", differential=()))
    assert "No differential" in html


def test_live_header_and_passage_views():
    assert "generating…" in render_conversation([], live=True)
    html = render_passage({"title": "Asthma", "url": "https://x/a", "text": "a\nb", "score": 0.5}, 1, "cited")
    assert '<a href="https://x/a">' in html and "a<br>b" in html and "says a sentence of the answer" in html
    unsafe = render_passage({"url": "javascript:alert(1)"}, 1, "uncited")
    assert 'href="javascript' not in unsafe and "javascript:alert(1)" in unsafe  # shown, never a link


def test_a_complete_answers_caveat_is_shown_with_the_answer():
    """The notice that an answer never mentions the asked-about drug stays under that answer in the
    conversation, not only in the status line (which the next action overwrites)."""
    notice = 'The answer does not mention "ibuprofen": its sources answer the rest of the question.'
    html = render_answer(answer("Some medicines can harm your baby [1].", notice=notice))
    assert "does not mention &quot;ibuprofen&quot;" in html
    assert "does not mention" not in render_answer(answer("Some medicines can harm your baby [1]."))


def test_every_answer_shows_the_model_version_and_knowledge_base_version_it_came_from():
    """breakchat: an answer showed only the model's name ("grounded quotes", "SmolLM2-…"): not the registry
    version of the model that wrote it nor the knowledge-base version it quoted, although both are stored, so
    a clinician could not tell an answer from before a re-ingestion or a model promotion (fails on 7d7286b)."""
    generative = render_answer(answer("Gout is caused by crystals [1].", answer_mode=AnswerMode.generative,
                                      model={"backend": "llama.cpp", "name": "SmolLM2-360M"}, model_version_id=3,
                                      kb_version_id=12))
    assert "SmolLM2-360M (model version 3)" in generative and "knowledge base v12" in generative
    grounded = render_answer(answer("Gout is caused by crystals [1].", kb_version_id=12,
                                    model={"backend": "extractive", "name": "grounded quotes",
                                           "selector": "all-MiniLM-L6-v2"}))
    assert "grounded quotes, sentences chosen by all-MiniLM-L6-v2" in grounded and "knowledge base v12" in grounded
    unknown = render_answer(answer("Gout is caused by crystals [1].", model={"name": "grounded quotes"}))
    assert "knowledge base version not recorded" in unknown
    # "not in the knowledge base" is true of one version of it: say which
    nikb = render_answer(answer("Not in the knowledge base. No stored passage covers it.", kb_version_id=12,
                                status=MessageStatus.not_in_knowledge_base))
    assert "knowledge base v12" in nikb
