"""Chat tab with the real SmolLM2 model in the llm lane: streaming, stop, citations, history, refusals."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QUrl

from medstation.access.roles import UserSession
from medstation.config import Settings
from medstation.llm.answer import message_store as convo
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.answer.message_store import MessageRole, MessageStatus
from medstation.llm.backends.local import LocalLlamaBackend
from medstation.llm.answer.rag_answer import StreamEvent
from medstation.store.model_registry import ModelRegistry
from medstation.llm.service import LLMService
from medstation.rag.types import Passage
from medstation.store.database import Database
from medstation.llm.answer.conversation import Conversation
from medstation.ui.chat.tab import ChatTab
from medstation.ui.runner import JobRunner
from tests.llm_support import ListKnowledgeBase


@pytest.fixture(scope="module")
def backend():
    loaded = LocalLlamaBackend(embedded_model_path(), n_ctx=4096, n_threads=2)
    yield loaded
    loaded.close()


PASSAGES = [
    Passage("c1", "asthma", "Asthma", "https://medlineplus.gov/asthma.html", "MedlinePlus",
            "Asthma is a chronic disease that inflames and narrows the airways. Symptoms include wheezing, "
            "coughing, chest tightness and shortness of breath.", 0.9, 1),
    Passage("c2", "copd", "COPD", "https://medlineplus.gov/copd.html", "MedlinePlus",
            "COPD is a group of lung diseases that block airflow. Smoking is the main cause.", 0.5, 2),
]


@pytest.fixture
def make_tab(qtbot, backend, medstation_home):
    made = []

    def _make(passages=PASSAGES, max_tokens=24):
        settings = Settings(llm_max_tokens=max_tokens)
        settings.ensure_dirs()
        db = Database(settings.db_path)
        llm = LLMService(settings, db, registry=ModelRegistry(db))
        llm.attach_backend(backend)
        runner = JobRunner()
        kb = ListKnowledgeBase(passages)
        tab = ChatTab(llm=llm, kb=kb, conversation=Conversation(db=db, llm=llm, kb=kb), settings=settings,
                      runner=runner, session=UserSession.from_os_user())
        qtbot.addWidget(tab)
        tab.resize(1400, 800)
        tab.show()
        made.append((runner, db))
        return tab

    yield _make
    for runner, db in made:
        runner.shutdown()
        db.close()


def _wait_idle(qtbot, tab, timeout=120_000):
    qtbot.waitUntil(lambda: tab.answer_job is None and tab.send_button.isEnabled(), timeout=timeout)


def _wait_stored_answer(qtbot, tab):
    """Until the answer job ended and the stored answer was reloaded from the database."""
    _wait_idle(qtbot, tab)
    try:
        qtbot.waitUntil(lambda: bool(tab.messages) and tab.messages[-1].role == "assistant" and tab.messages[-1].id > 0,
                        timeout=30_000)
    except Exception:
        pytest.fail(f"no stored answer shown; status line: {tab.status_label.text()!r}")


def test_answer_streams_and_is_stored_with_citation_links(qtbot, make_tab):
    tab = make_tab()
    partial_lengths = []
    tab.question_edit.setPlainText("What are the symptoms of asthma?")
    tab.send()
    tab.answer_job.sig_partial.connect(lambda _e: partial_lengths.append(len(tab.live_text)))
    assert tab.stop_button.isEnabled() and not tab.send_button.isEnabled()
    _wait_stored_answer(qtbot, tab)
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
    _wait_stored_answer(qtbot, tab)
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
    _wait_stored_answer(qtbot, tab)
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
    _wait_stored_answer(qtbot, tab)
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
    _wait_stored_answer(qtbot, tab)
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
    _wait_idle(qtbot, tab)
    tab._on_view_anchor(QUrl(f"cite:{first.id}:1"))  # back to the first answer's citation
    panel = tab.source_panel
    assert "Asthma" in panel.passage_view.toPlainText() and panel.uncited_list.count() == 1
    panel.uncited_list.itemClicked.emit(panel.uncited_list.item(0))
    shown = panel.passage_view.toPlainText()
    assert "COPD" in shown and "Kidney" not in shown


class StarterLoadingKb(ListKnowledgeBase):
    """Empty until its (starter) ingestion, which runs until ``release`` is set; counts ``is_empty`` calls made on
    the GUI thread (the real one opens chromadb there: seconds while the background lane is importing it)."""

    def __init__(self, settings):
        super().__init__([])
        self.settings = settings
        self.release = threading.Event()
        self.gui_thread_reads = 0

    def is_empty(self):
        if threading.current_thread() is threading.main_thread():
            self.gui_thread_reads += 1
        return super().is_empty()

    def ingest_job(self, ctx, path):
        self.release.wait(60)
        self.passages = list(PASSAGES)
        return SimpleNamespace(describe=lambda: "starter knowledge base ingested")


def test_a_question_asked_while_the_starter_loads_waits_without_reading_the_store_on_the_gui_thread(
        qtbot, backend, medstation_home):
    """breakchat: Send during the first start's starter ingestion asked the knowledge base whether it was empty
    on the GUI thread: the real service opens chromadb under the lock the ingestion holds while importing it,
    so the window froze for seconds (fails on 7d7286b). The tab knows the starter is loading; the question
    waits and is asked when it is ready."""
    settings = Settings(llm_max_tokens=24, kb_starter=True)  # the tests' default turns the starter off
    settings.ensure_dirs()
    db = Database(settings.db_path)
    llm = LLMService(settings, db, registry=ModelRegistry(db))
    llm.attach_backend(backend)
    runner = JobRunner()
    kb = StarterLoadingKb(settings)
    tab = ChatTab(llm=llm, kb=kb, conversation=Conversation(db=db, llm=llm, kb=kb), settings=settings,
                  runner=runner, session=UserSession.from_os_user())
    qtbot.addWidget(tab)
    try:
        qtbot.waitUntil(lambda: tab.ingest_job is not None, timeout=30_000)
        tab.question_edit.setPlainText("What are the symptoms of asthma?")
        tab.send()
        assert kb.gui_thread_reads == 0
        assert "still loading" in tab.status_label.text() and tab.answer_job is None
        kb.release.set()
        _wait_stored_answer(qtbot, tab)
        assert "wheezing" in tab.messages[-1].content
    finally:
        kb.release.set()
        runner.shutdown()
        db.close()


def test_new_conversation_while_an_answer_streams_stays_new(qtbot, make_tab):
    """breakchat: "New conversation" while an answer streamed stopped it, then the stopped answer's reload opened
    the OLD conversation again, so the next question was asked there, in the conversation the user had left
    (fails on 7d7286b). The stopped answer is kept in its own conversation; the view stays new and empty."""
    tab = make_tab(max_tokens=300)
    tab.answer_mode_combo.setCurrentIndex(2)  # generative: the model writes, so it streams for a while
    tab.question_edit.setPlainText("Describe asthma and COPD.")
    tab.send()
    job = tab.answer_job
    tokens = []
    job.sig_partial.connect(lambda e: e.kind == "token" and tokens.append(e.payload))
    qtbot.waitUntil(lambda: len(tokens) >= 2, timeout=300_000)
    tab.history_panel.new_button.click()
    _wait_idle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.history_panel.list.count() == 1 and tab.history_panel.list.item(0).data(
        Qt.ItemDataRole.UserRole) is not None, timeout=30_000)  # the stopped answer's conversation is listed
    for _hop in range(2):  # a late reload (stored id, then its messages) is two io jobs: let both land
        settle = tab.runner.submit("io", lambda ctx: None, name="settle", queue=True)
        with qtbot.waitSignal(settle.sig_done, timeout=30_000):
            pass
    assert tab.conversation_id is None and tab.messages == []
    assert "Describe asthma" not in tab.view.toPlainText() and not tab.live_text
    stored = convo.list_conversations(tab.conversation.db)
    assert len(stored) == 1 and convo.load_messages(tab.conversation.db, stored[0].id)[-1].status is MessageStatus.stopped


def test_the_chat_tab_fits_the_windows_minimum_width(qtbot, make_tab):
    """breakchat: the Chat tab needed 1,137 px (a 320 px model list beside an answer-mode list as wide as its
    longest choice): in the window's 960 px minimum, or on a 1,024 px screen, the source-passage panel that shows
    a clicked citation was cut off the right edge (fails on 7d7286b)."""
    from medstation.ui.main_window import MIN_WINDOW

    tab = make_tab()
    assert tab.minimumSizeHint().width() <= MIN_WINDOW[0] - 24  # the tab widget's frame and margins
    tab.resize(MIN_WINDOW[0] - 24, MIN_WINDOW[1] - 60)
    qtbot.waitUntil(lambda: tab.width() == MIN_WINDOW[0] - 24)
    right = tab.source_panel.mapTo(tab, tab.source_panel.rect().topRight()).x()
    assert tab.source_panel.isVisible() and tab.source_panel.width() >= 150 and right <= tab.width()
    for button in (tab.send_button, tab.accept_button, tab.reject_button, tab.ingest_button):
        assert button.mapTo(tab, button.rect().topRight()).x() <= tab.width(), button.text()


class EndlessIngestionKb(ListKnowledgeBase):
    """Ingestion that runs until cancelled (a whole drive picked by mistake), checking for cancellation."""

    def ingest_job(self, ctx, path):
        while True:
            ctx.check()
            threading.Event().wait(0.01)


def test_a_running_ingestion_can_be_stopped_from_the_chat_tab(qtbot, backend, medstation_home):
    """breakchat: while a folder was ingested the only button was disabled: a clinician who picked a whole drive
    by mistake could stop it only by closing the app (fails on 7d7286b). The button stops it."""
    settings = Settings()
    settings.ensure_dirs()
    db = Database(settings.db_path)
    llm = LLMService(settings, db, registry=ModelRegistry(db))
    runner = JobRunner()
    kb = EndlessIngestionKb(PASSAGES)
    tab = ChatTab(llm=llm, kb=kb, conversation=Conversation(db=db, llm=llm, kb=kb), settings=settings,
                  runner=runner, session=UserSession.from_os_user())
    qtbot.addWidget(tab)
    try:
        handle = tab.ingest("/")
        assert tab.ingest_button.isEnabled() and "Stop" in tab.ingest_button.text()
        with qtbot.waitSignal(handle.sig_cancelled, timeout=30_000):
            tab.ingest_button.click()
        qtbot.waitUntil(lambda: tab.ingest_job is None, timeout=30_000)
        assert "Ingestion stopped" in tab.kb_label.text() and tab.ingest_button.text() == "Ingest folder…"
    finally:
        runner.shutdown()
        db.close()


class EmptiedKb(ListKnowledgeBase):
    """Answers the first question; the next meets a knowledge base emptied meanwhile, once ``gate`` opens."""

    def __init__(self, passages):
        super().__init__(passages)
        self.second = False
        self.gate = threading.Event()

    def is_empty(self):
        if self.second:
            self.gate.wait(60)
            return True
        return False


def test_a_question_asked_the_moment_an_answer_ends_is_not_lost(qtbot, make_tab):
    """breakchat: asked right as the previous answer ended, the question was shown, then wiped by that answer's
    late reload; when it was refused (here: the knowledge base emptied meanwhile) it was not handed back either:
    the typed question was lost (fails on 7d7286b). A reload from before the current answer is not applied."""
    tab = make_tab()
    qtbot.waitUntil(lambda: bool(tab.kb_label.text()), timeout=30_000)  # the start-up reads are done
    tab.kb = tab.conversation.kb = EmptiedKb(PASSAGES)
    tab.question_edit.setPlainText("What are the symptoms of asthma?")
    tab.send()

    def ask_again():
        tab.kb.second = True
        tab.question_edit.setPlainText("What causes COPD?")
        tab.send()

    tab.answer_job.sig_finished.connect(ask_again)  # the very moment the first answer ends
    qtbot.waitUntil(lambda: tab.kb.second and tab.answer_job is not None, timeout=120_000)
    for _hop in range(2):  # the first answer's reload (its messages) has landed, or been set aside
        settle = tab.runner.submit("io", lambda ctx: None, name="settle", queue=True)
        with qtbot.waitSignal(settle.sig_done, timeout=30_000):
            pass
    assert tab.messages[-1].content == "What causes COPD?"  # still shown while it is answered
    tab.kb.gate.set()
    _wait_idle(qtbot, tab)
    assert tab.question_edit.toPlainText() == "What causes COPD?"  # refused: handed back, not lost
    qtbot.waitUntil(lambda: [m.id > 0 for m in tab.messages] == [True, True], timeout=30_000)
    assert "Knowledge base is empty" in tab.status_label.text()
