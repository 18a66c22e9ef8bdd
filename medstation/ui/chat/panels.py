"""The Chat tab's side widgets: conversation history, sources of an answer, reasoning form."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from medstation.llm.answer.message_store import ConversationRecord
from medstation.llm.answer.provenance import AnswerProvenance
from medstation.ui.chat.render import STYLE, render_passage


class HistoryPanel(QWidget):
    """Stored conversations, newest first, with a filter box that searches titles and message text."""

    sig_filter_changed = Signal(str)
    sig_conversation_chosen = Signal(int)
    sig_new_conversation = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Conversations</b>"))
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Search conversations…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.sig_filter_changed)
        layout.addWidget(self.filter_edit)
        self.list = QListWidget()
        self.list.itemActivated.connect(self._on_list_item)
        self.list.itemClicked.connect(self._on_list_item)
        layout.addWidget(self.list, 1)
        self.new_button = QPushButton("New conversation")
        self.new_button.clicked.connect(self.sig_new_conversation)
        layout.addWidget(self.new_button)

    def set_conversations(self, records: list[ConversationRecord], current_id: int | None) -> None:
        self.list.clear()
        for record in records:
            item = QListWidgetItem(f"{record.title}\n{record.updated_at:%Y-%m-%d %H:%M}")
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            item.setToolTip(record.title)
            self.list.addItem(item)
            if record.id == current_id:
                item.setSelected(True)
        if not records:
            empty = "No conversation matches." if self.filter_edit.text() else "No conversations yet."
            placeholder = QListWidgetItem(empty)
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(placeholder)

    def _on_list_item(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(Qt.ItemDataRole.UserRole)
        if conversation_id is not None:
            self.sig_conversation_chosen.emit(int(conversation_id))


class SourcePanel(QWidget):
    """The passage behind a clicked citation, the retrieved-but-uncited passages, flagged citations."""

    sig_passage_requested = Signal(int)  # 1-based passage number of the answer shown (``answer_key``)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Source passage</b>"))
        self.passage_view = QTextBrowser()
        self.passage_view.setOpenExternalLinks(False)  # offline workstation: URLs are shown, not opened
        self.passage_view.setOpenLinks(False)
        self.passage_view.setHtml(STYLE + '<p class="meta">Click a citation such as [1] to read its passage.</p>')
        layout.addWidget(self.passage_view, 3)
        layout.addWidget(QLabel("<b>Retrieved but not cited</b>"))
        self.uncited_list = QListWidget()
        self.uncited_list.setWordWrap(True)
        self.uncited_list.itemClicked.connect(
            lambda item: self.sig_passage_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))
        )
        layout.addWidget(self.uncited_list, 1)
        self.flag_label = QLabel("")
        self.flag_label.setWordWrap(True)
        self.flag_label.setStyleSheet("color: #a33;")
        layout.addWidget(self.flag_label)
        self.attribution = QLabel("")
        self.attribution.setWordWrap(True)
        self.attribution.setStyleSheet("color: #777; font-size: small;")
        layout.addWidget(self.attribution)
        self.answer_key: str | None = None  # the answer (message id) whose sources are listed; None: none yet

    def show_answer_sources(self, provenance: AnswerProvenance, answer_key: str) -> None:
        """Fill the uncited list and the flags from the provenance of answer ``answer_key`` (its message id):
        a click in the list opens that answer's passage, even when a later answer exists."""
        self.answer_key = answer_key
        passages = provenance.passages
        self.uncited_list.clear()
        for n in provenance.uncited:
            snippet = " ".join((passages[n - 1].get("text") or "").split())[:70]
            item = QListWidgetItem(f"[{n}] {passages[n - 1].get('title', '')} — {snippet}…")
            item.setToolTip(passages[n - 1].get("url") or "")
            item.setData(Qt.ItemDataRole.UserRole, n)
            self.uncited_list.addItem(item)
        dropped = provenance.dropped_context.get("passages") or []
        flags = []
        if provenance.unsupported_count:
            flags.append(f"{provenance.unsupported_count} sentence(s) of this answer are unsupported by the sources.")
        if provenance.removed_markers:
            flags.append("Citations removed (no such passage): "
                         + ", ".join(m["marker"] for m in provenance.removed_markers))
        if dropped:
            flags.append(f"{len(dropped)} retrieved passage(s) did not fit the model's context and were left out.")
        self.flag_label.setText("\n".join(flags))

    def show_passage(self, passage: dict, n: int, state: str) -> None:
        """``state``: cited | uncited (see ``render.PASSAGE_STATES``)."""
        self.passage_view.setHtml(STYLE + render_passage(passage, n, state))

    def clear(self) -> None:
        self.answer_key = None
        self.uncited_list.clear()
        self.flag_label.setText("")
        self.passage_view.setHtml(STYLE + '<p class="meta">Click a citation such as [1] to read its passage.</p>')


class ReasoningForm(QWidget):
    """Clinical reasoning mode: the case in three fields -> a cited differential (decision support)."""

    sig_submit = Signal(str, str, str)  # symptoms, history, findings

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        note = QLabel("Decision support for a clinician: the differential is an AI draft built from the knowledge "
                      "base, to be weighed and verified — not a diagnosis.")
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.symptoms = self._field("e.g. fever, productive cough for 5 days, pleuritic chest pain")
        self.history = self._field("e.g. 67-year-old smoker, COPD, type 2 diabetes")
        self.findings = self._field("e.g. crackles right base, SpO2 91%, CRP 180 mg/L")
        form.addRow("Symptoms", self.symptoms)
        form.addRow("History", self.history)
        form.addRow("Findings", self.findings)
        layout.addLayout(form)
        self.submit_button = QPushButton("Suggest differential")
        self.submit_button.clicked.connect(
            lambda: self.sig_submit.emit(self.symptoms.toPlainText(), self.history.toPlainText(),
                                         self.findings.toPlainText())
        )
        layout.addWidget(self.submit_button)

    @staticmethod
    def _field(placeholder: str) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setPlaceholderText(placeholder)
        edit.setFixedHeight(54)
        return edit
