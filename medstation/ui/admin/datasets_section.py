"""Dataset build and import in the Admin tab: no terminal needed to get a training set.

Three sources, each an existing :class:`~medstation.training.service.TrainingService` job:
accepted masks of this workstation (``build_clinic_dataset``, optionally one modality),
a seg2d ``manifest.json`` (``import_seg2d``) or a folder of NIfTI image + label volumes
(``import_nifti``). The service checks ``train_models``, de-identifies, splits, writes the
snapshot and audits it; this widget gathers the choice, runs the job in the ``background``
lane (a build reads every series and can take minutes; the ``io`` lane stays free for the
dashboard) and lists the stored versions with their split counts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QRadioButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medstation.training.datasets.sources import CollectionFilter
from medstation.ui.errors import report_failure
from medstation.ui.viewer.status_line import StatusLine

SOURCES = (("clinic", "Accepted masks in this workstation"), ("seg2d", "seg2d manifest (manifest.json)"),
           ("nifti", "NIfTI volumes (a folder of image + label files)"))
MODALITIES = ("", "CT", "MR", "CR", "DX", "US", "XA", "PT", "NM", "ES")  # "" = every modality
COLUMNS = ("id", "dataset", "kind", "cases", "excluded", "train / val / test", "created (UTC)")


def build_job(ctx, training, source: str, *, path: str = "", dataset_name: str = "", modality: str = "",
              golden: bool = False):
    """Job: one dataset snapshot from ``source`` ("clinic", "seg2d" or "nifti"); returns its DatasetVersionInfo."""
    name = dataset_name.strip() or None
    if source == "clinic":
        flt = CollectionFilter(modality=modality or None)
        return training.build_clinic_dataset(ctx, flt, name=name or "clinic-segmentation")
    if not path.strip():
        from medstation.errors import UserFacingError

        raise UserFacingError("Choose the manifest file or the NIfTI folder first.")
    if source == "seg2d":
        return training.import_seg2d(ctx, Path(path), name, golden=golden)
    return training.import_nifti(ctx, Path(path), name, golden=golden)


class DatasetsSection(QWidget):
    """Source choice, name, build/cancel, progress and the versions table."""

    sig_built = Signal(object)  # DatasetVersionInfo of a new (or unchanged) snapshot

    def __init__(self, training, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.training = training
        self.runner = runner
        self.versions: list = []
        self._handle = None

        box = QGroupBox("Build or import a segmentation dataset")
        self.source_group = QButtonGroup(self)
        self.source_buttons: dict[str, QRadioButton] = {}
        sources = QVBoxLayout()
        for key, text in SOURCES:
            button = QRadioButton(text)
            button.setObjectName(f"source_{key}")
            self.source_group.addButton(button)
            self.source_buttons[key] = button
            sources.addWidget(button)
            button.toggled.connect(self._on_source_changed)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("dataset_path")
        self.browse_button = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.modality_combo = QComboBox()
        for m in MODALITIES:
            self.modality_combo.addItem(m or "every modality", m)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("dataset name (default: clinic-segmentation, or the file's folder)")
        self.golden_box = QCheckBox("Golden set (every case is held out; never trained on)")
        self.build_button = QPushButton("Build dataset")
        self.build_button.setObjectName("build_dataset")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        form = QFormLayout()
        form.addRow("Source", sources)
        form.addRow("File or folder", path_row)
        form.addRow("Modality", self.modality_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.golden_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        bv = QVBoxLayout(box)
        bv.addLayout(form)
        bv.addLayout(buttons)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("datasets_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.status = StatusLine(max_lines=2)
        self.status.setObjectName("datasets_status")

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(QLabel("<b>Stored dataset versions</b> (a build with unchanged content reuses its version)"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.build_button.clicked.connect(self.build)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.source_buttons["clinic"].setChecked(True)

    # -- choice ---------------------------------------------------------------------------------
    def source(self) -> str:
        return next(key for key, button in self.source_buttons.items() if button.isChecked())

    def set_source(self, key: str, path: str = "") -> None:
        self.source_buttons[key].setChecked(True)
        self.path_edit.setText(path)

    def _on_source_changed(self, _checked: bool = False) -> None:
        clinic = self.source_buttons["clinic"].isChecked()
        self.path_edit.setEnabled(not clinic)
        self.browse_button.setEnabled(not clinic)
        self.modality_combo.setEnabled(clinic)
        self.golden_box.setEnabled(not clinic)
        self.path_edit.setPlaceholderText("" if clinic else ("…/manifest.json" if self.source_buttons["seg2d"].isChecked()
                                                              else "folder with *_ct.nii.gz and *seg*.nii.gz"))

    def _on_browse_clicked(self) -> None:
        if self.source() == "seg2d":
            path, _ = QFileDialog.getOpenFileName(self, "seg2d manifest", "", "manifest (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder of NIfTI volumes")
        if path:
            self.path_edit.setText(path)

    # -- building -------------------------------------------------------------------------------
    def build(self):
        """Start the build in the background lane; returns the job handle."""
        source = self.source()
        handle = self.runner.submit("background", build_job, self.training, source, path=self.path_edit.text(),
                                    dataset_name=self.name_edit.text(), modality=self.modality_combo.currentData(),
                                    golden=self.golden_box.isChecked() and source != "clinic", name="dataset build",
                                    requester=self)
        self._handle = handle
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText("Building…")
        handle.sig_progress.connect(self._on_progress)
        handle.sig_done.connect(self._on_built)
        handle.sig_failed.connect(lambda m, d, e=None: report_failure(self, "", m, d, e, self.status))
        handle.sig_failed.connect(lambda *_: self.progress.setValue(0))  # nothing was built: no stale 5 %
        handle.sig_cancelled.connect(lambda: self.status.setText("Build cancelled; nothing stored."))
        handle.sig_cancelled.connect(lambda: self.progress.setValue(0))
        handle.sig_finished.connect(self._on_finished)
        return handle

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(100 * fraction)))
        self.status.setText(message)

    def _on_built(self, info) -> None:
        splits = info.split_counts
        self.status.setText(f"{info.label}: {info.n_cases} cases (train {splits.get('train', 0)}, val "
                            f"{splits.get('val', 0)}, test {splits.get('test', 0)}), {info.n_excluded} excluded.")
        self.progress.setValue(100)
        self.sig_built.emit(info)
        self.refresh()

    def _on_finished(self) -> None:
        self._handle = None
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_cancel_clicked(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    # -- listing --------------------------------------------------------------------------------
    def refresh(self):
        handle = self.runner.submit("io", lambda ctx: self.training.dataset_versions(), name="dataset versions",
                                    queue=True)
        handle.sig_done.connect(self._show_versions)
        handle.sig_failed.connect(lambda m, d, e=None: report_failure(self, "", m, d, e, self.status))
        return handle

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh()

    def _show_versions(self, versions) -> None:
        self.versions = sorted(versions, key=lambda v: v.id, reverse=True)
        self.table.setRowCount(len(self.versions))
        for i, v in enumerate(self.versions):
            s = v.split_counts
            values = (v.id, v.label, v.kind, v.n_cases, v.n_excluded,
                      f"{s.get('train', 0)} / {s.get('val', 0)} / {s.get('test', 0)}",
                      f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else "")
            for j, value in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(str(value)))
