"""The Admin tab's "Shadow and blind preference" section: how candidates did on real requests.

Two tables, read in the ``io`` lane by :func:`load_shadow_section` (which first scores
newly signed notes and accepted masks, :func:`~medstation.training.canary.outcomes.resolve_outcomes`):

* shadow: per candidate, the finished (and failed) shadow cases, how often the user's
  decision is known, the candidate's agreement with the active output, the mean paired
  metric (Dice; ROUGE-L for notes) of the active and the candidate output against what
  the user accepted or signed, the difference with its paired bootstrap 95 % CI and the
  Wilcoxon p (:mod:`medstation.training.comparison.stats`);
* blind preference: per candidate, how often each model was picked and the two-sided
  exact binomial (sign) test, ties ("neither") excluded.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from medstation.access.roles import Permission
from medstation.ui.errors import report_failure

SHADOW_COLUMNS = ("cand.", "kind · metric", "cases", "failed", "kept", "≈ active", "active", "cand.",
                  "Δ [95% CI]", "p")
SHADOW_TIPS = ("candidate version", "what ran and the paired metric", "finished shadow cases",
               "candidate failed (logged and recorded)", "cases whose accepted mask / signed note is known",
               "mean metric of the candidate's output against the active output",
               "active model's mean metric against the kept output", "candidate's mean metric against the kept output",
               "candidate − active, paired bootstrap 95% CI over cases", "paired Wilcoxon signed-rank p")
PREFERENCE_COLUMNS = ("cand.", "kind", "picked cand.", "picked active", "neither", "cand. share", "sign test p")
KIND_LABELS = {"segmentation": "viewer", "llm": "notes"}
METRIC_LABELS = {"dice": "Dice", "rougeL": "ROUGE-L"}


def load_shadow_section(ctx, training) -> dict:
    """Job (io lane): score what can be scored, then both summaries and the settings, as plain values."""
    from medstation.training.canary.preference import preference_summary
    from medstation.training.canary.outcomes import resolve_outcomes, shadow_summary

    training.session.require(Permission.manage_models)
    ctx.report(0.2, "scoring shadow cases against accepted work")
    resolved = resolve_outcomes(training.db)
    s = training.settings
    return {"shadow": shadow_summary(training.db), "preference": preference_summary(training.db), "resolved": resolved,
            "settings": (s.shadow_share_segmentation, s.shadow_share_notes, s.blind_preference_segmentation,
                         s.blind_preference_notes)}


def _num(value, fmt: str = "{:.3f}") -> str:
    return "" if value is None else fmt.format(value)


def shadow_row(summary) -> tuple:
    p = summary.paired
    ci = ""
    if p is not None:
        ci = f"{p['mean_diff']:+.3f}" + (f" [{p['ci_low']:+.3f}, {p['ci_high']:+.3f}]" if p["ci_low"] is not None
                                         else " (1 case: no CI)")
    kind = f"{KIND_LABELS.get(summary.kind, summary.kind)} · {METRIC_LABELS.get(summary.metric, summary.metric)}"
    return (f"#{summary.candidate_version_id}", kind, summary.n_cases, summary.n_failed, summary.n_resolved,
            _num(summary.agreement), _num(p and p["mean_baseline"]), _num(p and p["mean_candidate"]),
            ci, _num(p and p["p_value"], "{:.2g}"))


def preference_row(summary) -> tuple:
    return (f"#{summary.candidate_version_id}", KIND_LABELS.get(summary.kind, summary.kind), summary.n_candidate,
            summary.n_active, summary.n_neither,
            _num(summary.candidate_share, "{:.0%}"), _num(summary.p_value, "{:.3g}"))


class ShadowSection(QWidget):
    """``training``: the TrainingService (its db, session and settings); ``runner``: the JobRunner."""

    def __init__(self, training, runner) -> None:
        super().__init__()
        self.training, self.runner = training, runner
        self.shadow_table = self._table(SHADOW_COLUMNS)
        for j, tip in enumerate(SHADOW_TIPS):
            self.shadow_table.horizontalHeaderItem(j).setToolTip(tip)
        self.preference_table = self._table(PREFERENCE_COLUMNS)
        self.mode = QLabel("")
        self.mode.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Shadow runs</b> (candidate beside the active model on real requests, never shown)"))
        head.addStretch(1)
        head.addWidget(self.refresh_button)
        layout.addLayout(head)
        layout.addWidget(self.mode)
        layout.addWidget(self.shadow_table, 1)
        layout.addWidget(QLabel("<b>Blind preference</b> (two unlabelled outputs, the user picked one)"))
        layout.addWidget(self.preference_table, 1)
        layout.addWidget(self.status)

    @staticmethod
    def _table(columns) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(list(columns))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def refresh(self):
        handle = self.runner.submit("io", load_shadow_section, self.training, name="shadow summary", queue=True)
        handle.sig_done.connect(self._on_loaded)
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(self, "Shadow", m, tb, exc, self.status))
        return handle

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh()

    def _on_loaded(self, data: dict) -> None:
        seg, notes, blind_seg, blind_notes = data["settings"]
        self.mode.setText(f"Shadow share: viewer {seg:.0%}, notes {notes:.0%} · blind preference: viewer "
                          f"{'on' if blind_seg else 'off'}, notes {'on' if blind_notes else 'off'}. "
                          "'active' / 'cand.': mean metric against the kept output (the accepted mask or signed "
                          "note, which began as the active model's: this leans toward the active model).")
        self._fill(self.shadow_table, [shadow_row(s) for s in data["shadow"]])
        self._fill(self.preference_table, [preference_row(s) for s in data["preference"]])
        lines = [f"{data['resolved']} case(s) newly scored."] if data["resolved"] else []
        lines += [f"#{s.candidate_version_id}: {s.n_budget_cut} of {s.n_cases} draft(s) ran out of model time, so "
                  "they kept transcript sentences (compare with care)." for s in data["shadow"] if s.n_budget_cut]
        lines += [f"Last failure of #{s.candidate_version_id}: {s.last_error[:160]}"
                  for s in data["shadow"] if s.last_error][:1]
        self.status.setText(" ".join(lines))

    @staticmethod
    def _fill(table: QTableWidget, rows) -> None:
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                table.setItem(i, j, QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()
