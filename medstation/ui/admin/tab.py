"""Admin tab: the model registry, the training queue with live curves, A/B results, promote and roll back.

Sections: "Models and training" | "Users" | "Datasets" | "Audit trail" (each only for whoever holds its
permission). Models and training: alerts (top) | registry table with compare / promote / force promote /
roll back / ledger, and the training runs with the agent (or workstation) that runs each one (left) |
training: dataset, mode, epochs, train, cancel, curves; A/B heatmap and verdict (right). Decisions (the
promotion gate, what is audited) live in :class:`~medstation.training.service.TrainingService`; this widget
gathers input and shows results.
A forced promotion and a rollback each ask for a reason (stored in the audit event), a rollback
also for a confirmation (:mod:`~medstation.ui.admin.registry_decisions`); the training half is
:mod:`~medstation.ui.admin.training_controls`. Every database read and write (dashboard, promote, roll
back, ledger, queueing a run) runs in the ``io`` lane, never on the GUI thread; comparisons in
``segmentation`` (masks) or ``llm`` (notes); training in the ``process`` lane (a child process).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QScrollArea, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from medstation.access.roles import Permission
from medstation.training.agent.placement import placements as run_placements
from medstation.training.availability import training_unavailable_reason
from medstation.ui.access.admin_section import with_audit_section
from medstation.ui.admin.datasets_section import DatasetsSection
from medstation.ui.admin.plots import ABHeatmap
from medstation.ui.admin.registry_decisions import RegistryDecisions
from medstation.ui.admin.shadow_section import ShadowSection
from medstation.ui.admin.training_controls import TrainingControls
from medstation.ui.admin.users_section import UsersSection
from medstation.ui.errors import report_failure
from medstation.ui.runner import Lane
from medstation.ui.viewer.status_line import StatusLine, let_labels_shrink

log = logging.getLogger(__name__)


def keep_rows_visible(table: QTableWidget, rows: int) -> None:
    """Never shrink ``table`` below its header, ``rows`` rows and a horizontal scroll bar."""
    header = table.horizontalHeader().sizeHint().height()
    scroll = table.horizontalScrollBar().sizeHint().height()
    table.setMinimumHeight(header + rows * table.verticalHeader().defaultSectionSize() + scroll + 2 * table.frameWidth())

EMPTY_REGISTRY = ("No model versions registered yet. The shipped models register themselves the first time they "
                  "are used (the segmentation model when the Viewer first segments, the language model with the "
                  "first answer or note draft); trained versions then appear here as candidates.")
REGISTRY_COLUMNS = ("id", "kind", "status", "name", "parent", "dataset", "val Dice", "A/B Δ")
RUN_COLUMNS = ("run", "status", "epochs", "model", "started", "agent", "error")


def load_dashboard(ctx, training) -> dict:
    """Job (io lane): everything the tab shows, as plain values."""
    ctx.report(0.1, "reading the registry")
    models = training.models()
    runs = training.runs(20)
    placements = run_placements(training.db, runs)  # which agent (or workstation) runs what
    latest = training.latest_comparison()
    verdicts = {v.id: training.promotion_verdict(v.id) for v in models if v.status.value == "candidate"}
    return {"models": models, "runs": runs, "datasets": training.dataset_versions("segmentation"),
            "alerts": training.alerts(), "schedules": training.schedules(), "comparison": latest,
            "metrics": training.run_metrics(runs[0].id) if runs else {}, "verdicts": verdicts,
            "placements": placements}


class AdminTab(QWidget):
    sig_models_changed = Signal()  # a promotion or rollback changed which version is active

    def __init__(self, training, runner, session, *, accounts=None) -> None:
        """``training``: TrainingService; ``runner``: JobRunner; ``session``: UserSession; ``accounts``: the
        AccountAdmin behind the Users section (None: no Users section, e.g. a models-only test)."""
        super().__init__()
        self.training = training
        self.runner = runner
        self.session = session
        self._models: list = []
        self._shown_comparison_id = 0  # the stored A/B result on screen; a reload never shows an older one

        self.alerts = QLabel("")
        self.alerts.setWordWrap(True)
        self.alerts.setStyleSheet("color: #a02020;")
        self.status = StatusLine(max_lines=2)
        self.status.setObjectName("admin_status")

        self.registry_table = self._table(REGISTRY_COLUMNS)
        self.compare_button = QPushButton("Compare with active")
        self.promote_button = QPushButton("Promote")
        self.force_button = QPushButton("Force promote…")
        self.force_button.setToolTip("Promote without a recommending A/B result; asks for a reason (audited)")
        self.rollback_button = QPushButton("Roll back…")
        self.rollback_button.setToolTip("Make the previously active version of the selected kind (default "
                                        "segmentation) active again; asks for a confirmation and a reason")
        self.ledger_button = QPushButton("What did it make?")
        self.ledger = QLabel("")
        self.ledger.setWordWrap(True)
        # The gate's reasons can be several sentences: a box of its own that scrolls, never clipped by the tables.
        self.gate_label = QPlainTextEdit("Select a candidate to see whether it may be promoted.")
        self.gate_label.setReadOnly(True)
        self.gate_label.setFixedHeight(6 * self.gate_label.fontMetrics().lineSpacing() + 12)
        self._verdicts: dict = {}
        self.trainer = TrainingControls(self, training, runner, self.status, refresh=self.refresh)
        t = self.trainer  # its widgets, by the names scripts and tests use
        self.dataset_combo, self.mode_combo, self.epochs_spin, self.search_box = (t.dataset_combo, t.mode_combo,
                                                                                  t.epochs_spin, t.search_box)
        self.train_button, self.cancel_button, self.schedule_label = t.train_button, t.cancel_button, t.schedule_label
        self.split_warning, self.curves, self._outside_poll = t.split_warning, t.curves, t.outside_poll
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("<b>Model registry</b> (active version per kind is used at once by the viewer)"))
        lv.addWidget(self.registry_table, 3)
        row = QHBoxLayout()
        for b in (self.compare_button, self.promote_button, self.force_button, self.rollback_button,
                  self.ledger_button):
            row.addWidget(b)
        lv.addLayout(row)
        lv.addWidget(self.gate_label)
        lv.addWidget(self.ledger)
        lv.addWidget(QLabel("<b>Training runs</b>"))
        self.runs_table = self._table(RUN_COLUMNS)
        lv.addWidget(self.runs_table, 2)
        lv.addWidget(ShadowSection(training, runner), 2)  # shadow runs and blind preference per candidate

        self.heatmap = ABHeatmap()
        self.verdict = QLabel("No A/B comparison yet.")
        self.verdict.setWordWrap(True)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addLayout(self.trainer.controls_row())
        self.training_unavailable = QLabel(training_unavailable_reason())  # the inference bundle has no torch
        self.training_unavailable.setWordWrap(True)
        self.training_unavailable.setVisible(bool(self.training_unavailable.text()))
        self.train_button.setEnabled(not self.training_unavailable.text())
        rv.addWidget(self.training_unavailable)
        rv.addWidget(self.split_warning)
        rv.addWidget(self.schedule_label)
        rv.addWidget(self.curves, 3)
        rv.addWidget(self.heatmap, 3)
        rv.addWidget(self.verdict)

        for table in left.findChildren(QTableWidget):
            keep_rows_visible(table, 3)
        # On a laptop screen the five sections do not fit: the column scrolls rather than squeezing its tables
        # to their headers; in a tall window it fills the height as before.
        column = QScrollArea()
        column.setWidgetResizable(True)
        column.setFrameShape(QFrame.Shape.NoFrame)
        column.setWidget(left)
        # as wide as the column's buttons need (a scroll area alone would let the splitter squeeze them)
        column.setMinimumWidth(left.minimumSizeHint().width() + column.verticalScrollBar().sizeHint().width())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(column)
        splitter.addWidget(right)
        splitter.setSizes([720, 860])
        layout = QVBoxLayout(self)
        layout.addWidget(self.alerts)
        self.sections = self._sections(with_audit_section(self, splitter, training.db, session, runner), accounts)
        layout.addWidget(self.sections, 1)
        layout.addWidget(self.status)

        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.decisions = RegistryDecisions(
            self, training, runner, self.status, selected=self._selected_model, models=lambda: self._models,
            verdict=lambda: self.verdict.text() if self._shown_comparison_id else "")
        self.decisions.sig_changed.connect(self.sig_models_changed)
        self.decisions.sig_changed.connect(self.refresh)
        self.promote_button.clicked.connect(self.decisions.promote)
        self.force_button.clicked.connect(self.decisions.force_promote)
        self.rollback_button.clicked.connect(self.decisions.rollback)
        self.ledger_button.clicked.connect(self._on_ledger_clicked)
        self.runs_table.itemSelectionChanged.connect(self._on_runs_selection)
        self.registry_table.itemSelectionChanged.connect(self._show_verdict)
        let_labels_shrink(self)  # alerts, verdicts, ledgers: long text wraps, it never widens the window

    @staticmethod
    def _table(columns) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(list(columns))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        return table

    def _sections(self, main: QWidget, accounts) -> QTabWidget:
        """"Models and training" (+ "Audit trail" when allowed), with "Users" and "Datasets" inserted after it."""
        if isinstance(main, QTabWidget):
            sections = main
        else:
            sections = QTabWidget()
            sections.addTab(main, "Models and training")
        sections.setObjectName("admin_sections")
        actor = self.session.actor
        self.users_section = None
        self.datasets_section = DatasetsSection(self.training, self.runner)
        self.datasets_section.sig_built.connect(lambda _info: self.refresh())
        if accounts is not None and actor is not None and actor.can(Permission.manage_users):
            self.users_section = UsersSection(accounts, self.runner)
            sections.insertTab(1, self.users_section, "Users")
        sections.insertTab(1 + (self.users_section is not None), self.datasets_section, "Datasets")
        return sections

    def show_section(self, title: str) -> None:
        for i in range(self.sections.count()):
            if self.sections.tabText(i) == title:
                self.sections.setCurrentIndex(i)

    # --- refresh ---------------------------------------------------------------------------------

    def refresh(self):
        handle = self.runner.submit(Lane.IO, load_dashboard, self.training, name="admin dashboard", queue=True)
        handle.sig_done.connect(self._on_dashboard_loaded)
        handle.sig_failed.connect(self._on_job_failed)
        return handle

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh()

    def _on_dashboard_loaded(self, data: dict) -> None:
        self._models = data["models"]
        self._fill(self.registry_table, [self._model_row(v) for v in self._models])
        placements = data.get("placements", {})
        self._fill(self.runs_table, [(r.id, r.status.value, r.epochs_done, r.model_label,
                                      f"{r.started_at:%Y-%m-%d %H:%M}" if r.started_at else "",
                                      placements.get(r.id, ""),
                                      r.error.splitlines()[0][:80] if r.error else "") for r in data["runs"]])
        self.alerts.setText("\n".join(f"⚠ {a['message']}" for a in data["alerts"][:4]))
        self.trainer.show_loaded(data)
        self._verdicts = data.get("verdicts", {})
        self._show_verdict()
        if data["comparison"] is not None and data["comparison"][0] >= self._shown_comparison_id:
            self._shown_comparison_id = data["comparison"][0]
            self._show_comparison(data["comparison"][1])

    def _model_row(self, v) -> tuple:
        dice = v.metrics.get("val_dice")
        diff = v.metrics.get("ab_dice_diff", v.metrics.get("ab_rougeL_diff"))  # the kind's primary metric
        return (v.id, v.kind.value, v.status.value, v.name.replace("LiteMedSAM fine-tuned", "LiteMedSAM ft"),
                v.parent_id or "", v.dataset_version.split(" (")[0],
                "" if dice is None else f"{dice:.3f}", "" if diff is None else f"{diff:+.3f}")

    @staticmethod
    def _fill(table: QTableWidget, rows) -> None:
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                table.setItem(i, j, QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()

    def _selected_model(self):
        row = self.registry_table.currentRow()
        return self._models[row] if 0 <= row < len(self._models) else None

    def _show_comparison(self, result) -> None:
        self.heatmap.show_result(result)
        d = result.overall[result.primary]
        name = {"dice": "Dice", "rougeL": "ROUGE-L"}.get(result.primary, result.primary)
        ci = f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]" if d["ci_low"] is not None else "(too few cases for a CI)"
        self.verdict.setText(f"#{result.candidate_id} vs active #{result.baseline_id}: {name} "
                             f"{d['mean_candidate']:.3f} "
                             f"vs {d['mean_baseline']:.3f}, Δ {d['mean_diff']:+.3f} 95% CI {ci} on {d['n']} cases. "
                             f"{result.reason}")

    # --- promotion verdict and held-out split warnings (the gate's reasons, in plain words) ----------

    def _show_verdict(self) -> None:
        """Why the selected candidate may or may not be promoted (``TrainingService.promotion_verdict``)."""
        version = self._selected_model()
        verdict = self._verdicts.get(version.id) if version is not None else None
        if not self._models:
            self.gate_label.setPlainText(EMPTY_REGISTRY)
            self.gate_label.setStyleSheet("")
            return
        if verdict is None:
            self.gate_label.setPlainText("Select a candidate to see whether it may be promoted."
                                         if version is None or version.status.value == "candidate"
                                         else f"#{version.id} is {version.status.value}.")
            self.gate_label.setStyleSheet("")
            return
        head = (f"✓ #{verdict.version_id} may be promoted:" if verdict.allowed
                else f"✗ #{verdict.version_id} cannot be promoted without force:")
        self.gate_label.setPlainText("\n".join([head] + [f"• {r}" for r in verdict.reasons]))
        self.gate_label.setStyleSheet("color: #206020;" if verdict.allowed else "color: #a02020;")

    # --- actions ---------------------------------------------------------------------------------

    def _on_compare_clicked(self) -> None:
        version = self._selected_model()
        if version is None:
            self.status.setText("Select a candidate in the registry first.")
            return
        lane = Lane.LLM if version.kind.value == "llm" else Lane.SEGMENTATION  # notes are drafted by the LLM
        handle = self.runner.submit(lane, self.training.compare, version.id, name="A/B comparison",
                                    requester=self)
        handle.sig_progress.connect(lambda f, m: self.status.setText(f"A/B: {m} ({f:.0%})"))
        handle.sig_done.connect(self._on_compare_done)
        handle.sig_failed.connect(self._on_job_failed)

    def _on_compare_done(self, outcome) -> None:
        self._shown_comparison_id = max(self._shown_comparison_id, int(outcome[0]))
        self._show_comparison(outcome[1])
        self.status.setText(f"A/B comparison #{outcome[0]} stored.")
        self.refresh()

    def _on_ledger_clicked(self):
        """What the selected version made (read in the io lane; a refusal is a sentence on the status line)."""
        version = self._selected_model()
        if version is None:
            return None
        version_id = version.id
        handle = self.runner.submit(Lane.IO, lambda ctx: self.training.ledger(version_id), name="ledger", queue=True,
                                    on_failed=self._on_job_failed)
        handle.sig_done.connect(lambda made: self._show_ledger(version_id, made))
        return handle

    def _show_ledger(self, version_id: int, made: list[dict]) -> None:
        accepted = sum(1 for m in made if m["status"] == "accepted")
        self.ledger.setText(f"#{version_id} made {len(made)} masks ({accepted} accepted): "
                            + ", ".join(f"{m['name']} #{m['id']}" for m in made[:8]))

    def _on_train_clicked(self):
        return self.trainer.train()

    def _on_runs_selection(self) -> None:
        row, runs = self.runs_table.currentRow(), self.trainer.runs
        if 0 <= row < len(runs):
            self.trainer.show_run(runs[row].id)

    def _on_job_failed(self, message: str, details: str, exc=None) -> None:
        report_failure(self, "Admin", message, details, exc, self.status)
