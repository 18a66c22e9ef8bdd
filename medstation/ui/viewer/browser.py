"""Patient → study → series tree. Shows what the index holds; emits the series the user picks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem, QWidget

from medstation.ui.viewer.browser_remote import REMOTE_HIT_ROLE, add_remote_groups, group_label

SERIES_UID_ROLE = Qt.ItemDataRole.UserRole + 1
SERIES_INFO_ROLE = Qt.ItemDataRole.UserRole + 2  # the SeriesInfo the row was made from (for the preview)


def _date(text: str) -> str:
    """DICOM DA 'YYYYMMDD' -> 'YYYY-MM-DD' (left as is when it is not one)."""
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


class SeriesBrowser(QTreeWidget):
    """Columns: name/description, modality, date, images. Double-click or Enter opens a series."""

    sig_series_activated = Signal(str)  # series UID
    sig_remote_activated = Signal(object, object)  # (PacsNode, StudyHit): retrieve this remote study

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Patient / study / series", "Mod.", "Date", "Images"])
        self.setColumnWidth(0, 175)
        self.setColumnWidth(1, 38)
        self.setColumnWidth(2, 78)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.itemActivated.connect(self._on_item_activated)
        self.itemDoubleClicked.connect(self._on_item_activated)
        self.remote: dict = {}  # {group label: (PacsNode, [StudyHit])}, kept across populate()
        self._patients = []
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)

    def populate(self, patients) -> None:
        """Fill from ``ImagingService.patients()`` (a list of PatientInfo)."""
        self.clear()
        self._patients = list(patients)
        for patient in patients:
            n_images = sum(st.n_instances for st in patient.studies)
            label = patient.display_name + (f"  [{patient.patient_id}]" if patient.patient_id else "")
            p_item = QTreeWidgetItem([label, "", _date(patient.birth_date), str(n_images)])
            p_item.setToolTip(0, f"{label}\nsex {patient.sex or '?'}, born {_date(patient.birth_date) or '?'}")
            self.addTopLevelItem(p_item)
            for study in patient.studies:
                s_item = QTreeWidgetItem(
                    [study.description or "(study without description)", study.modalities, _date(study.date), str(study.n_instances)]
                )
                s_item.setToolTip(0, f"{len(study.series)} series, accession {study.accession or '-'}")
                p_item.addChild(s_item)
                for series in study.series:
                    number = f"#{series.series_number} " if series.series_number is not None else ""
                    size = f"  {series.rows}×{series.columns}" if series.rows else ""
                    item = QTreeWidgetItem(
                        [f"{number}{series.description or '(no description)'}{size}", series.modality, _date(series.date), str(series.n_instances)]
                    )
                    item.setData(0, SERIES_UID_ROLE, series.series_uid)
                    item.setData(0, SERIES_INFO_ROLE, series)
                    item.setToolTip(0, series.series_uid)
                    s_item.addChild(item)
        add_remote_groups(self, self.remote)
        self.expandAll()

    # -- remote studies (PACS query results) ------------------------------------------------------
    def show_remote(self, node, hits) -> None:
        """Show ``hits`` (StudyHits from ``node``) as a "Remote (NODE)" group, replacing that node's last ones."""
        self.remote[group_label(node)] = (node, list(hits))
        self.populate(self._patients)

    def forget_remote(self, node, study_uid: str) -> None:
        """Drop a study from the remote group (once retrieved it is listed as a local study)."""
        label = group_label(node)
        if label in self.remote:
            self.remote[label] = (node, [h for h in self.remote[label][1] if h.study_uid != study_uid])

    def retrieve_action(self, item: QTreeWidgetItem, menu: QMenu):
        """The "Retrieve from PACS" action for a remote study row (None for other rows)."""
        entry = item.data(0, REMOTE_HIT_ROLE) if item is not None else None
        if not entry:
            return None
        action = menu.addAction("Retrieve from PACS")
        action.triggered.connect(lambda: self.sig_remote_activated.emit(*entry))
        return action

    def _on_context_menu(self, pos) -> None:
        menu = QMenu(self)
        if self.retrieve_action(self.itemAt(pos), menu) is not None:
            menu.exec(self.viewport().mapToGlobal(pos))

    def series_item(self, series_uid: str) -> QTreeWidgetItem | None:
        for p in range(self.topLevelItemCount()):
            patient = self.topLevelItem(p)
            for s in range(patient.childCount()):
                study = patient.child(s)
                for k in range(study.childCount()):
                    item = study.child(k)
                    if item.data(0, SERIES_UID_ROLE) == series_uid:
                        return item
        return None

    def select_series(self, series_uid: str) -> None:
        item = self.series_item(series_uid)
        if item is not None:
            self.setCurrentItem(item)

    def _on_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        entry = item.data(0, REMOTE_HIT_ROLE)
        if entry:
            self.sig_remote_activated.emit(*entry)
            return
        uid = item.data(0, SERIES_UID_ROLE)
        if uid:
            self.sig_series_activated.emit(str(uid))
