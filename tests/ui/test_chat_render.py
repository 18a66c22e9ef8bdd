"""HTML of the conversation view: escaping, citation links, source matches, differentials."""

from __future__ import annotations

from datetime import datetime, timezone

from medstation.llm.conversations import MessageRecord
from medstation.ui.chat.render import render_answer, render_live, render_passage


def answer(content, mode="chat", **prov):
    prov.setdefault("passages", [{"title": "T1"}, {"title": "T2"}])
    return MessageRecord(id=7, conversation_id=1, role="assistant", content=content, status=prov.pop("status", "complete"),
                         mode=mode, created_at=datetime.now(timezone.utc), provenance=prov)


def test_valid_citations_become_links_and_model_text_is_escaped():
    html = render_answer(answer("Use <b>insulin</b> [1, 2]. Or [5]."))
    assert '<a class="cite" href="cite:7:1">1</a>, <a class="cite" href="cite:7:2">2</a>' in html
    assert "&lt;b&gt;insulin&lt;/b&gt;" in html and "<b>insulin</b>" not in html
    assert 'href="cite:7:5"' not in html  # a marker to nothing is never a link
    assert "AI draft — decision support, verify against the sources" in html


def test_matched_sentences_get_an_approximate_link_after_the_sentence():
    text = "Asthma narrows airways. Unrelated."
    html = render_answer(answer(text, matched=[{"start": 0, "end": 23, "n": 2, "overlap": 0.8}]))
    assert 'Asthma narrows airways. <a class="match" href="cite:7:2"' in html and "[≈2]" in html
    assert "matched by word overlap" in html


def test_stopped_and_flagged_answers_say_so():
    html = render_answer(answer("Partial", status="stopped", removed_markers=[{"marker": "[9]", "invalid": [9]}]))
    assert "stopped by the user" in html and "[9]" in html


def test_differential_lists_items_or_says_none_was_found():
    items = [{"rank": 1, "diagnosis": "Asthma", "rationale": "wheeze <night>", "citations": [1]}]
    html = render_answer(answer("1. Asthma — wheeze [1]", mode="reasoning", differential=items))
    assert "<b>Asthma</b>" in html and "wheeze &lt;night&gt;" in html and 'href="cite:7:1"' in html
    assert "not a diagnosis" in html
    html = render_answer(answer("no list here", mode="reasoning", differential=[]))
    assert "did not write a numbered differential" in html


def test_live_and_passage_views():
    assert 'href="cite:live:1"' in render_live("Fact [1]", 1)
    html = render_passage({"title": "Asthma", "url": "https://x/a", "text": "a\nb", "score": 0.5}, 1, "matched")
    assert '<a href="https://x/a">' in html and "a<br>b" in html and "word overlap" in html
    unsafe = render_passage({"url": "javascript:alert(1)"}, 1, "uncited")
    assert 'href="javascript' not in unsafe and "javascript:alert(1)" in unsafe  # shown, never a link
