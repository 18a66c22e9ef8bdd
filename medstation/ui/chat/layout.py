"""The Chat tab's widgets, built in one place so ``tab.py`` holds only behaviour."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout,
    QWidget,
)

from medstation.llm.answer.message_store import ReviewStatus
from medstation.llm.answer.provenance import AnswerMode
from medstation.llm.backends.openai_http import remote_server_notice
from medstation.ui.chat.panels import HistoryPanel, ReasoningForm, SourcePanel


def build_chat(tab) -> None:
    """Create the tab's widgets as attributes of ``tab`` and connect them to its slots.

    Layout: conversations (left) | conversation view, question box or reasoning form, controls (centre) |
    source passage, uncited passages, flags (right)."""
    tab.history_panel = HistoryPanel()
    tab.history_panel.sig_filter_changed.connect(lambda _t: tab.refresh_history())
    tab.history_panel.sig_conversation_chosen.connect(tab._on_history_chosen)
    tab.history_panel.sig_new_conversation.connect(tab.new_conversation)
    tab.source_panel = SourcePanel()
    tab.source_panel.sig_passage_requested.connect(lambda n: tab._show_passage(tab._shown_key(), n))

    header = QHBoxLayout()
    header.addWidget(QLabel("Model"))
    # both lists size to a short minimum, not to their longest entry (a model label with its path, the
    # generative mode's description): the tab must fit the window's 960 px minimum with its side panels
    tab.model_combo = QComboBox()
    tab.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    tab.model_combo.setMinimumContentsLength(16)
    tab.model_combo.currentIndexChanged.connect(tab._on_model_combo_changed)
    header.addWidget(tab.model_combo, 1)
    header.addWidget(QLabel("Answer"))
    tab.answer_mode_combo = QComboBox()
    tab.answer_mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    tab.answer_mode_combo.setMinimumContentsLength(12)
    tab.answer_mode_combo.addItem("Model default", None)
    tab.answer_mode_combo.addItem("Grounded: quote the sources", AnswerMode.grounded.value)
    tab.answer_mode_combo.addItem("Generative: model's own words (checked)", AnswerMode.generative.value)
    tab.answer_mode_combo.setToolTip("Grounded answers are built only from the passages' own sentences, each "
                                     "with its citation (default for the small embedded model). Generative "
                                     "answers are written by the model; unsupported sentences are marked.")
    tab.answer_mode_combo.view().setMinimumWidth(tab.answer_mode_combo.view().sizeHintForColumn(0) + 24)
    header.addWidget(tab.answer_mode_combo)
    tab.ingest_button = QPushButton("Ingest folder…")  # "Stop ingesting" while a folder is ingested
    tab.ingest_button.clicked.connect(tab._on_ingest_clicked)
    header.addWidget(tab.ingest_button)
    tab.kb_label = QLabel("")
    tab.kb_label.setWordWrap(True)

    tab.view = QTextBrowser()
    tab.view.setOpenLinks(False)
    tab.view.anchorClicked.connect(tab._on_view_anchor)

    tab.question_edit = QPlainTextEdit()
    tab.question_edit.setPlaceholderText("Ask a clinical question, e.g. What are the symptoms of asthma?")
    tab.question_edit.setMinimumHeight(60)
    tab.send_button = QPushButton("Send")
    tab.send_button.setDefault(True)
    tab.send_button.clicked.connect(tab.send)
    tab.stop_button = QPushButton("Stop")
    tab.stop_button.clicked.connect(tab.stop)
    tab.regenerate_button = QPushButton("Regenerate")
    tab.regenerate_button.clicked.connect(tab.regenerate)
    tab.accept_button = QPushButton("Accept answer")
    tab.accept_button.clicked.connect(lambda: tab._review(ReviewStatus.accepted))
    tab.reject_button = QPushButton("Reject")
    tab.reject_button.clicked.connect(lambda: tab._review(ReviewStatus.rejected))
    buttons = QHBoxLayout()
    for b in (tab.send_button, tab.stop_button, tab.regenerate_button):
        buttons.addWidget(b)
    buttons.addStretch(1)
    buttons.addWidget(tab.accept_button)
    buttons.addWidget(tab.reject_button)
    ask_page = QWidget()
    ask_layout = QVBoxLayout(ask_page)
    ask_layout.setContentsMargins(0, 0, 0, 0)
    ask_layout.addWidget(tab.question_edit)
    tab.reasoning_form = ReasoningForm()
    tab.reasoning_form.sig_submit.connect(tab.send_case)
    tab.input_tabs = QTabWidget()
    tab.input_tabs.addTab(ask_page, "Question")
    tab.input_tabs.addTab(tab.reasoning_form, "Clinical reasoning")
    tab.input_tabs.setMaximumHeight(240)
    tab.status_label = QLabel("")
    tab.status_label.setWordWrap(True)

    centre = QWidget()
    centre_layout = QVBoxLayout(centre)
    centre_layout.addLayout(header)
    centre_layout.addWidget(tab.kb_label)
    centre_layout.addWidget(tab.view, 1)
    centre_layout.addWidget(tab.input_tabs)
    centre_layout.addLayout(buttons)
    centre_layout.addWidget(tab.status_label)

    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(tab.history_panel)
    splitter.addWidget(centre)
    splitter.addWidget(tab.source_panel)
    splitter.setSizes([250, 800, 420])
    layout = QVBoxLayout(tab)
    notice = (remote_server_notice(tab.settings.openai_base_url) if tab.settings.llm_backend == "openai"
              else "")
    tab.remote_notice = QLabel(notice)  # data leaves the building only on purpose, and the user sees it
    tab.remote_notice.setWordWrap(True)
    tab.remote_notice.setStyleSheet("background: #fde68a; padding: 4px; font-weight: bold;")
    tab.remote_notice.setVisible(bool(notice))
    layout.addWidget(tab.remote_notice)
    layout.addWidget(splitter)
