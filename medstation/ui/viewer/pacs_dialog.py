"""The PACS dialog: node settings, Test connection, a study search, and Retrieve with progress and cancel.

Only gathers input and shows results (Slicer's Widget/Logic split): every network call is a
:class:`~medstation.imaging.pacs.service.PacsService` job run in the runner's ``background`` lane,
and every failure shows the domain's plain sentence (status code and what to change) under the
button that caused it. Results are marked "remote"; a retrieved study is indexed by the job and
``sig_retrieved(series_uids)`` tells the viewer to refresh its browser and open it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QProgressBar, QPushButton, QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from medstation.imaging.pacs.node import DEFAULT_LISTENER_PORT, DEFAULT_LOCAL_AE, PacsError, PacsNode, StudyQuery
from medstation.imaging.pacs.service import PacsService
from medstation.ui.errors import show_error
from medstation.ui.viewer.browser_remote import REMOTE_HIT_ROLE, remote_study_items
from medstation.ui.viewer.pacs_receive import ReceiverBox

_COLUMNS = ("Where", "Patient ID", "Name", "Date", "Modalities", "Images", "Description", "Study UID")


class PacsDialog(QDialog):
    """``service``: a PacsService; ``runner``: the app's JobRunner."""

    sig_retrieved = Signal(object)  # list[str] of series UIDs now in the local index
    sig_hits = Signal(object, object)  # (PacsNode searched, list[StudyHit]): shown in the viewer's browser too

    def __init__(self, service, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS")
        self.service, self.runner = service, runner
        self._handle = None
        self.hits = []
        layout = QVBoxLayout(self)
        layout.addWidget(self._node_box())
        self.receiver_box = ReceiverBox(service, runner, lambda: (self.local_ae.text().strip() or DEFAULT_LOCAL_AE,
                                                                  self.listener_port.value()), self)
        layout.addWidget(self.receiver_box)
        layout.addWidget(self._query_box(), 1)

    # -- layout -----------------------------------------------------------------------------------
    def _node_box(self) -> QGroupBox:
        box = QGroupBox("PACS node")
        form = QFormLayout(box)
        kind = QHBoxLayout()
        self.use_dicomweb, self.use_dimse = QRadioButton("DICOMweb"), QRadioButton("DIMSE")
        group = QButtonGroup(box)
        for b in (self.use_dicomweb, self.use_dimse):
            group.addButton(b)
            kind.addWidget(b)
        self.use_dimse.setChecked(True)
        form.addRow("Protocol", kind)
        self.url = QLineEdit(placeholderText="http://pacs:8042/dicom-web")
        form.addRow("DICOMweb URL", self.url)
        self.ae_title, self.host = QLineEdit("ORTHANC"), QLineEdit("127.0.0.1")
        self.port = QSpinBox(maximum=65535, value=4242)
        form.addRow("PACS AE title", self.ae_title)
        form.addRow("PACS host", self.host)
        form.addRow("PACS port", self.port)
        self.local_ae = QLineEdit(DEFAULT_LOCAL_AE)
        self.listener_port = QSpinBox(maximum=65535, value=DEFAULT_LISTENER_PORT)
        self.listener_host = QLineEdit("127.0.0.1", toolTip="The address the PACS has for this workstation")
        form.addRow("Our AE title", self.local_ae)
        form.addRow("Our listener port", self.listener_port)
        form.addRow("Our address (as the PACS knows it)", self.listener_host)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._on_test_clicked)
        form.addRow(self.test_button)
        self.test_result = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.test_result)
        self.use_dicomweb.toggled.connect(self._update_enabled)
        self._update_enabled()
        return box

    def _query_box(self) -> QGroupBox:
        box = QGroupBox("Find studies")
        outer = QVBoxLayout(box)
        row = QHBoxLayout()
        self.patient_id, self.patient_name = QLineEdit(placeholderText="Patient ID"), QLineEdit(placeholderText="Name*")
        self.modality, self.accession = QLineEdit(placeholderText="Modality"), QLineEdit(placeholderText="Accession")
        self.date_from, self.date_to = QLineEdit(placeholderText="From YYYYMMDD"), QLineEdit(placeholderText="To YYYYMMDD")
        for w in (self.patient_id, self.patient_name, self.modality, self.accession, self.date_from, self.date_to):
            row.addWidget(w)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self._on_search_clicked)
        row.addWidget(self.search_button)
        outer.addLayout(row)
        self.results = QTableWidget(0, len(_COLUMNS))
        self.results.setHorizontalHeaderLabels(_COLUMNS)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        outer.addWidget(self.results, 1)
        bottom = QHBoxLayout()
        self.retrieve_button, self.cancel_button = QPushButton("Retrieve selected"), QPushButton("Cancel")
        self.retrieve_button.clicked.connect(self._on_retrieve_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        bottom.addWidget(self.retrieve_button)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.progress, 1)
        outer.addLayout(bottom)
        self.status = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.status)
        return box

    def _update_enabled(self) -> None:
        web = self.use_dicomweb.isChecked()
        self.url.setEnabled(web)
        for w in (self.ae_title, self.host, self.port, self.local_ae, self.listener_port, self.listener_host):
            w.setEnabled(not web)

    # -- input -> domain --------------------------------------------------------------------------
    def node(self) -> PacsNode:
        """The node the fields describe (raises PacsError with the reason when they do not make one)."""
        if self.use_dicomweb.isChecked():
            return PacsNode.from_options(dicomweb=self.url.text().strip())
        return PacsNode(ae_title=self.ae_title.text().strip(), host=self.host.text().strip(), port=self.port.value(),
                        local_ae_title=self.local_ae.text().strip(), listener_port=self.listener_port.value(),
                        listener_host=self.listener_host.text().strip() or "127.0.0.1")

    def query(self) -> StudyQuery:
        return StudyQuery(patient_id=self.patient_id.text().strip(), patient_name=self.patient_name.text().strip(),
                          modality=self.modality.text().strip().upper(), accession=self.accession.text().strip(),
                          date_from=self.date_from.text().strip(), date_to=self.date_to.text().strip())

    def _run(self, fn, *args, on_done, label: QLabel, busy: str, **kwargs):
        self._set_busy(True)
        label.setStyleSheet("")
        label.setText(busy)
        handle = self.runner.submit("background", fn, *args, name="pacs", requester=self, **kwargs)
        handle.sig_done.connect(on_done)
        handle.sig_failed.connect(lambda message, *_: self._show_failure(label, message))
        handle.sig_progress.connect(lambda f, m: (self.progress.setValue(int(f * 100)), self.status.setText(m)))
        handle.sig_cancelled.connect(lambda: label.setText("Cancelled: nothing half-imported is shown; "
                                                          "Retrieve again to resume."))
        handle.sig_finished.connect(lambda: self._set_busy(False))
        self._handle = handle
        return handle

    def _set_busy(self, busy: bool) -> None:
        for b in (self.test_button, self.search_button, self.retrieve_button):
            b.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _show_failure(self, label: QLabel, message: str) -> None:
        label.setStyleSheet("color: #b00020;")
        label.setText(message)

    def _guarded(self, label: QLabel, make):
        try:
            return make()
        except PacsError as exc:
            self._show_failure(label, str(exc))
            return None

    # -- slots --------------------------------------------------------------------------------------
    def _on_test_clicked(self) -> None:
        node = self._guarded(self.test_result, self.node)
        if node is not None:
            self._run(lambda ctx, n: self.service.test_connection(n), node, label=self.test_result,
                      busy=f"Testing {node.describe()}…",
                      on_done=lambda lines: self.test_result.setText("\n".join(f"OK: {line}" for line in lines)))

    def _on_search_clicked(self) -> None:
        node = self._guarded(self.status, self.node)
        query = self._guarded(self.status, self.query) if node is not None else None
        if query is not None and self._guarded(self.status, query.date_range) is not None:
            self._run(self.service.query_job, node, query, label=self.status, busy="Searching…",
                      on_done=lambda hits: (self.show_hits(hits), self.sig_hits.emit(node, list(hits))))

    def show_hits(self, hits) -> None:
        self.hits = list(hits)
        self.results.setRowCount(len(self.hits))
        for r, h in enumerate(self.hits):
            values = ("remote", h.patient_id, h.patient_name, h.date, "/".join(h.modalities),
                      "?" if h.n_instances is None else str(h.n_instances), h.description, h.study_uid)
            for c, v in enumerate(values):
                self.results.setItem(r, c, QTableWidgetItem(v))
        self.status.setText(f"{len(self.hits)} studies on the PACS" if self.hits else "No studies match.")
        if self.hits:
            self.results.selectRow(0)

    def _on_retrieve_clicked(self) -> None:
        rows = sorted({i.row() for i in self.results.selectedIndexes()})
        node = self._guarded(self.status, self.node)
        if not rows or node is None:
            if not rows:
                self.status.setText("Select a study first.")
            return
        study = self.hits[rows[0]]
        self._run(self.service.retrieve_job, node, study.study_uid, label=self.status,
                  busy=f"Retrieving {study.study_uid}…", on_done=self._on_retrieved)

    def _on_retrieved(self, report) -> None:
        self.progress.setValue(100)
        self.status.setText(report.summary())
        self.sig_retrieved.emit(report.series_imported + report.series_already_complete)

    def _on_cancel_clicked(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.receiver_box.stop()  # the listener lives as long as the dialog that shows it
        super().closeEvent(event)


def open_pacs_dialog(viewer) -> PacsDialog | None:
    """The viewer's hook: build the service from the viewer's collaborators and show the dialog (modeless)."""
    if viewer.db is None or viewer.session is None:
        show_error(viewer, "PACS", "The PACS needs the local database (this viewer was opened without one).")
        return None
    dialog = PacsDialog(PacsService(viewer.settings, viewer.db, viewer.session), viewer.runner, viewer)
    dialog.sig_retrieved.connect(lambda uids: _open_retrieved(viewer, uids))
    dialog.sig_hits.connect(viewer.browser.show_remote)
    dialog.receiver_box.sig_indexed.connect(lambda _n: viewer.refresh_catalog())
    dialog.resize(1000, 640)
    dialog.show()
    return dialog


def _open_retrieved(viewer, series_uids) -> None:
    viewer.refresh_catalog()
    if series_uids:
        viewer.open_series(series_uids[0])


def retrieve_from_browser(viewer, node, hit):
    """Retrieve a remote study picked in the viewer's browser: the same retrieve job, in the background lane.

    Progress shows on the study's row and the status line; once done the study is dropped from the
    remote group, the catalog is refreshed (it is now a local study) and its first series opens."""
    if viewer.db is None or viewer.session is None:
        show_error(viewer, "PACS", "The PACS needs the local database (this viewer was opened without one).")
        return None

    def row():
        return next((i for i in remote_study_items(viewer.browser) if i.data(0, REMOTE_HIT_ROLE)[1].study_uid == hit.study_uid), None)

    def on_progress(fraction: float, message: str) -> None:
        if (item := row()) is not None:
            item.setText(3, f"{int(fraction * 100)}%")
        viewer.status.setText(f"PACS retrieve: {message}")

    def on_failed(message: str, *_):
        if (item := row()) is not None:
            item.setText(3, "failed")
            item.setToolTip(0, message)
        viewer.status.setText(f"PACS retrieve failed: {message}")

    def on_done(report) -> None:
        viewer.status.setText(report.summary())
        viewer.browser.forget_remote(node, hit.study_uid)
        _open_retrieved(viewer, report.series_imported + report.series_already_complete)

    service = PacsService(viewer.settings, viewer.db, viewer.session)
    handle = viewer.runner.submit("background", service.retrieve_job, node, hit.study_uid, name="pacs retrieve")
    handle.sig_progress.connect(on_progress)
    handle.sig_failed.connect(on_failed)
    handle.sig_done.connect(on_done)
    handle.sig_cancelled.connect(lambda: viewer.status.setText("PACS retrieve cancelled; retrieve again to resume."))
    viewer.status.setText(f"Retrieving {hit.study_uid} from {node.describe()}…")
    return handle
