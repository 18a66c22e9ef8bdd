"""The audit trail, filtered: a standalone widget the Admin tab mounts (``AuditTrailView(db, session)``).

Searches are one indexed SQL query (LIMIT 500, newest first) plus the distinct values the filter boxes offer;
with a runner they, and the chain check that reads every event, run in the ``io`` lane, never on the GUI thread
(a long trail, or a clinic's database server answering slowly, would otherwise freeze the window).
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medstation.access.audit_query import AuditFilter, AuditRow, AuditTrail, parse_day
from medstation.access.roles import UserSession
from medstation.errors import UserFacingError
from medstation.store.database import Database

COLUMNS = ("When (UTC)", "Who", "Role", "Action", "Record", "Detail")
PICKED = ("actor", "role", "action", "entity")  # the filter boxes that offer the trail's own values


class AuditTrailView(QWidget):
    """Filters (who, role, action prefix, record type, text, from/to day), the events, and "Verify chain"."""

    def __init__(self, db: Database, session: UserSession, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trail = AuditTrail(db, session)
        self.runner = runner
        self.rows: list[AuditRow] = []
        self._searches = 0  # searches started; a result is shown only if no newer one was started after it

        self.actor = self._combo("actor")
        self.role = self._combo("role")
        self.action = self._combo("action")
        self.entity = self._combo("entity")
        self.text = QLineEdit()
        self.text.setPlaceholderText("record id or detail contains…")
        self.since = QLineEdit()
        self.since.setPlaceholderText("from YYYY-MM-DD")
        self.until = QLineEdit()
        self.until.setPlaceholderText("to YYYY-MM-DD")
        for edit in (self.text, self.since, self.until):
            edit.returnPressed.connect(self.refresh)
        self.apply = QPushButton("Filter")
        self.apply.clicked.connect(self.refresh)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.clicked.connect(self.verify)

        bar = QHBoxLayout()
        for label, widget in (("Who", self.actor), ("Role", self.role), ("Action", self.action),
                              ("Record", self.entity)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        for widget in (self.text, self.since, self.until, self.apply, self.verify_button):
            bar.addWidget(widget)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel("")
        self.status.setObjectName("audit_status")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.refresh()

    def _combo(self, column: str) -> QComboBox:
        combo = QComboBox()
        combo.setEditable(True)
        combo.setMinimumWidth(110)
        combo.setObjectName(f"filter_{column}")
        combo.activated.connect(lambda _i: self.refresh())
        return combo

    def current_filter(self) -> AuditFilter:
        try:
            since, until = parse_day(self.since.text()), parse_day(self.until.text())
        except ValueError:
            raise UserFacingError("Dates are YYYY-MM-DD, for example 2026-12-01.") from None
        return AuditFilter(actor=self.actor.currentText(), role=self.role.currentText(),
                           action=self.action.currentText(), entity=self.entity.currentText(),
                           text=self.text.text(), since=since, until=until)

    def refresh(self):
        """Search with the current filter: in the ``io`` lane when there is a runner (returns its handle), else
        in place (a test or a caller without lanes). Only the newest search's result is shown."""
        try:
            flt = self.current_filter()
        except UserFacingError as exc:
            self.status.setText(str(exc))
            return None
        self._searches += 1
        if self.runner is None:
            self._show_found(self._searches, self._search_job(None, flt))
            return None
        number = self._searches
        self.status.setText("Searching…")
        handle = self.runner.submit("io", self._search_job, flt, name="audit search", queue=True)
        handle.sig_done.connect(lambda found: self._show_found(number, found))
        handle.sig_failed.connect(lambda message, *_: self.status.setText(message))
        return handle

    def _search_job(self, _ctx, flt: AuditFilter):
        """The events and each picker's values (every distinct actor, role, action, record type), or the refusal."""
        try:
            rows = self.trail.search(flt)
            return rows, {column: self.trail.distinct(column) for column in PICKED}
        except UserFacingError as exc:
            return exc

    def _show_found(self, number: int, found) -> None:
        if number != self._searches:
            return  # a newer search was started since: its result is the one to show
        if isinstance(found, Exception):
            self.status.setText(str(found))
            return
        self.rows, values = found
        self._fill_pickers(values)
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            record = f"{row.entity} {row.entity_id}".strip()
            detail = json.dumps(row.detail, ensure_ascii=False, sort_keys=True) if row.detail else ""
            for j, value in enumerate((row.at, row.actor, row.role, row.action, record, detail)):
                item = QTableWidgetItem(value)
                item.setToolTip(f"event {row.id} · hash {row.event_hash[:16]}…" if j == 0 else value)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        shown = f"{len(self.rows)} events" + (" (newest 500; narrow the filter for more)" if len(self.rows) >= 500 else "")
        self.status.setText(shown)

    def _fill_pickers(self, found: dict[str, list[str]]) -> None:
        for column, combo in zip(PICKED, (self.actor, self.role, self.action, self.entity)):
            current = combo.currentText()
            values = [""] + found[column]
            if [combo.itemText(i) for i in range(combo.count())] != values:
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(values)
                combo.setCurrentText(current)
                combo.blockSignals(False)

    def verify(self) -> None:
        self.status.setText("Verifying the hash chain…")
        if self.runner is None:
            self._show_report(self._verify_job(None))
            return
        handle = self.runner.submit("io", self._verify_job, name="audit verify")
        handle.sig_done.connect(self._show_report)
        handle.sig_failed.connect(lambda message, _tb: self.status.setText(message))

    def _verify_job(self, _ctx):
        try:
            return self.trail.verify()
        except UserFacingError as exc:
            return exc

    def _show_report(self, report) -> None:
        if isinstance(report, Exception):
            self.status.setText(str(report))
            return
        colour = "#2e7d32" if report.intact else "#c62828"
        self.status.setText(f"<span style='color:{colour}'><b>{report.summary()}</b></span>")
