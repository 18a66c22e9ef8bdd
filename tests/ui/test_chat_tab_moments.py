"""Chat tab at awkward moments, with the real SmolLM2 model: a question asked while the starter knowledge base
loads or the moment an answer ends, a new conversation while an answer streams, stopping an ingestion, and the
window's minimum width. Every test here failed on 7d7286b (found by the breakchat helper, session 10)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from PySide6.QtCore import Qt

from medstation.config import Settings
from medstation.llm.answer import message_store as convo
from medstation.llm.answer.message_store import MessageStatus
from tests.llm_support import ListKnowledgeBase
from tests.ui.chat_world import PASSAGES, backend, make_tab, open_chat_tab, wait_idle, wait_stored_answer  # noqa: F401


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
    kb = StarterLoadingKb(settings)
    tab, runner, db = open_chat_tab(qtbot, settings, kb, backend)
    try:
        qtbot.waitUntil(lambda: tab.ingest_job is not None, timeout=30_000)
        tab.question_edit.setPlainText("What are the symptoms of asthma?")
        tab.send()
        assert kb.gui_thread_reads == 0
        assert "still loading" in tab.status_label.text() and tab.answer_job is None
        kb.release.set()
        wait_stored_answer(qtbot, tab)
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
    wait_idle(qtbot, tab)
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
    tab, runner, db = open_chat_tab(qtbot, Settings(), EndlessIngestionKb(PASSAGES))
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
    wait_idle(qtbot, tab)
    assert tab.question_edit.toPlainText() == "What causes COPD?"  # refused: handed back, not lost
    qtbot.waitUntil(lambda: [m.id > 0 for m in tab.messages] == [True, True], timeout=30_000)
    assert "Knowledge base is empty" in tab.status_label.text()
