"""Chat tab with the real SmolLM2 model in the llm lane: streaming, stop, citations, history, refusals.

The tab's behaviour at awkward moments (asking while the starter loads or an answer ends, switching conversation
mid-answer, stopping an ingestion, a narrow window) is in ``test_chat_tab_moments.py``."""

from __future__ import annotations

from PySide6.QtCore import QUrl

from medstation.llm.answer import message_store as convo
from medstation.llm.answer.message_store import MessageRole, MessageStatus
from medstation.llm.answer.rag_answer import StreamEvent
from medstation.rag.types import Passage
from tests.ui.chat_world import backend, make_tab, wait_idle, wait_stored_answer  # noqa: F401 (fixtures)


def test_answer_streams_and_is_stored_with_citation_links(qtbot, make_tab):
    tab = make_tab()
    partial_lengths = []
    tab.question_edit.setPlainText("What are the symptoms of asthma?")
    tab.send()
    tab.answer_job.sig_partial.connect(lambda _e: partial_lengths.append(len(tab.live_text)))
    assert tab.stop_button.isEnabled() and not tab.send_button.isEnabled()
    wait_stored_answer(qtbot, tab)
    assert len(partial_lengths) >= 4 and partial_lengths == sorted(partial_lengths)  # grew token by token
    answer = tab.messages[-1]
    assert answer.status is MessageStatus.complete and answer.content
    assert answer.provenance.answer_mode.value == "grounded"  # the embedded model's default
    html = tab.view.toHtml()
    assert "AI draft — decision support, verify against the sources" in html and "Grounded answer" in html
    assert "Symptoms include wheezing, coughing, chest tightness and shortness of breath [1]." in tab.view.toPlainText()
    # a citation link opens the passage with its title, URL and text in the side panel
    tab._on_view_anchor(QUrl(f"cite:{answer.id}:1"))
    panel = tab.source_panel.passage_view.toPlainText()
    assert "Asthma" in panel and "https://medlineplus.gov/asthma.html" in panel and "wheezing" in panel
    uncited = [tab.source_panel.uncited_list.item(i).text() for i in range(tab.source_panel.uncited_list.count())]
    assert len(uncited) == len(answer.provenance.uncited) == 1
    # Regenerate answers the same question again, sampling, and keeps both answers
    tab.regenerate_button.click()
    qtbot.waitUntil(lambda: sum(m.role == "assistant" and m.id > 0 for m in tab.messages) == 2, timeout=120_000)
    again = tab.messages[-1]
    assert [m.role for m in tab.messages] == [MessageRole.user, MessageRole.assistant, MessageRole.assistant]
    assert again.provenance.regenerated is True and again.provenance.generation["temperature"] == 0.7
    # the conversation is listed and searchable
    qtbot.waitUntil(lambda: tab.history_panel.list.count() == 1, timeout=10_000)
    tab.history_panel.filter_edit.setText("no-such-words")
    qtbot.waitUntil(lambda: tab.history_panel.list.item(0).text() == "No conversation matches.", timeout=10_000)
    tab.history_panel.filter_edit.setText("asthma")
    qtbot.waitUntil(lambda: "asthma" in tab.history_panel.list.item(0).text(), timeout=10_000)


def test_stop_ends_the_answer_and_stores_it_as_stopped(qtbot, make_tab):
    tab = make_tab(max_tokens=300)
    tab.answer_mode_combo.setCurrentIndex(2)  # generative: the model writes, so there is something to stop
    tab.question_edit.setPlainText("Describe asthma and COPD.")
    tab.send()
    job = tab.answer_job
    tokens = []
    job.sig_partial.connect(lambda e: e.kind == "token" and tokens.append(e.payload))
    qtbot.waitUntil(lambda: len(tokens) >= 3, timeout=300_000)  # the prompt is read first: slow on a loaded machine
    tab.stop()
    with qtbot.waitSignal(job.sig_cancelled, timeout=20_000):
        pass
    assert len(tokens) <= 6  # stopped within a few tokens of the request
    wait_stored_answer(qtbot, tab)
    assert tab.messages[-1].status is MessageStatus.stopped
    assert "stopped by the user" in tab.view.toPlainText()
    assert tab.regenerate_button.isEnabled()
    assert not tab.accept_button.isEnabled() and tab.reject_button.isEnabled()  # a stopped answer is never accepted


def test_plain_messages_for_empty_kb_and_bad_questions(qtbot, make_tab):
    tab = make_tab(passages=[])
    qtbot.waitUntil(lambda: "Knowledge base is empty" in tab.kb_label.text(), timeout=10_000)
    tab.question_edit.setPlainText("x" * 4500)
    tab.send()
    assert "limit is 4,000" in tab.status_label.text() and tab.answer_job is None
    tab.question_edit.setPlainText("   ")
    tab.send()
    assert tab.status_label.text() == "Type a question first."
    tab.question_edit.setPlainText("What is asthma?")
    tab.send()
    qtbot.waitUntil(lambda: "Knowledge base is empty" in tab.status_label.text(), timeout=30_000)
    assert "medstation kb ingest PATH" in tab.status_label.text()
    assert tab.question_edit.toPlainText() == "What is asthma?"  # the question is given back, not lost
    assert tab.send_button.isEnabled() and convo.list_conversations(tab.conversation.db) == []


def test_question_nothing_covers_gets_a_not_in_the_knowledge_base_reply(qtbot, make_tab):
    tab = make_tab()
    tab.question_edit.setPlainText("How do I bake sourdough bread?")
    tab.send()
    wait_stored_answer(qtbot, tab)
    assert tab.messages[-1].status is MessageStatus.not_in_knowledge_base
    assert tab.messages[-2].content == "How do I bake sourdough bread?"
    assert "Not in the knowledge base." in tab.view.toPlainText()
    assert not tab.accept_button.isEnabled()


def test_streamed_tokens_are_appended_without_rerendering(qtbot, make_tab, monkeypatch):
    tab = make_tab()
    tab.answer_job = object()  # as while an answer streams
    tab._render()
    renders = []
    monkeypatch.setattr(tab.view, "setHtml", lambda html: renders.append(html))
    for _ in range(50):
        tab._on_answer_partial(StreamEvent("token", "ab "))
    assert renders == [] and tab.view.toPlainText().endswith("generating…\n" + "ab " * 50)
    tab.answer_job = None


def test_failed_history_and_model_reads_are_reported(qtbot, make_tab, monkeypatch):
    tab = make_tab()

    def broken(*_a, **_k):
        raise OSError("database is locked")

    monkeypatch.setattr(convo, "list_conversations", broken)
    tab.refresh_history()
    qtbot.waitUntil(lambda: "Could not load the conversation history" in tab.status_label.text(), timeout=10_000)
    assert "database is locked" in tab.status_label.text()
    monkeypatch.setattr("medstation.ui.chat.tab.list_models", broken)
    tab.refresh_models()
    qtbot.waitUntil(lambda: "Could not load the model list" in tab.status_label.text(), timeout=10_000)


def test_model_selector_lists_the_catalogue(qtbot, make_tab, settings):
    (settings.models_dir / "broken.gguf").write_bytes(b"not a model")
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.model_combo.count() >= 2, timeout=10_000)
    labels = [tab.model_combo.itemText(i) for i in range(tab.model_combo.count())]
    assert "SmolLM2-135M-Instruct.Q4_1" in labels[0] and "Q4_1" in labels[0]
    broken = labels.index(next(x for x in labels if x.startswith("broken")))
    assert "unusable" in labels[broken]
    assert not tab.model_combo.model().item(broken).isEnabled()


def test_reasoning_form_produces_a_stored_differential(qtbot, make_tab):
    tab = make_tab(max_tokens=48)
    tab.input_tabs.setCurrentIndex(1)
    form = tab.reasoning_form
    form.symptoms.setPlainText("wheezing, cough at night")
    form.findings.setPlainText("reduced peak flow, no fever")
    form.submit_button.click()
    wait_stored_answer(qtbot, tab)
    answer = tab.messages[-1]
    assert answer.mode == "reasoning"
    assert answer.provenance.case["symptoms"] == "wheezing, cough at night"
    assert "not a diagnosis" in tab.view.toPlainText()
    # grounded: the conditions are the passages' own titles, never the user's symptoms
    assert [item["diagnosis"] for item in answer.provenance.differential] == ["Asthma", "COPD"]
    assert answer.provenance.differential[0]["citations"] == [1]


def test_an_uncited_passage_of_an_earlier_answer_opens_that_answers_passage(qtbot, make_tab):
    """breakchat: after clicking a citation of an earlier answer, the side panel lists that answer's uncited
    passages, but clicking one opened the passage with that number of the LAST answer: another document
    (fails on 7d7286b)."""
    tab = make_tab()
    tab.question_edit.setPlainText("What are the symptoms of asthma?")
    tab.send()
    wait_stored_answer(qtbot, tab)
    first = tab.messages[-1]
    assert first.provenance.uncited == (2,)  # COPD was retrieved but not quoted
    gout = Passage("g1", "gout", "Gout", "https://medlineplus.gov/gout.html", "MedlinePlus",
                   "Gout is a form of arthritis caused by uric acid crystals in the joints.", 0.9, 1)
    kidney = Passage("k1", "kidney", "Kidney stones", "https://medlineplus.gov/kidneystones.html", "MedlinePlus",
                     "A kidney stone is a solid piece of material that forms in the kidney.", 0.4, 2)
    tab.kb.passages = [gout, kidney]
    tab.question_edit.setPlainText("What causes gout?")
    tab.send()
    qtbot.waitUntil(lambda: sum(m.role == "assistant" and m.id > 0 for m in tab.messages) == 2, timeout=120_000)
    wait_idle(qtbot, tab)
    tab._on_view_anchor(QUrl(f"cite:{first.id}:1"))  # back to the first answer's citation
    panel = tab.source_panel
    assert "Asthma" in panel.passage_view.toPlainText() and panel.uncited_list.count() == 1
    panel.uncited_list.itemClicked.emit(panel.uncited_list.item(0))
    shown = panel.passage_view.toPlainText()
    assert "COPD" in shown and "Kidney" not in shown
