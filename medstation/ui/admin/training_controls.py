"""The Admin tab's training half: dataset, mode, epochs, search, Train / Cancel, the live curves, and a run
started elsewhere followed live.

Decisions (what a run trains, what gets registered) live in
:class:`~medstation.training.service.TrainingService`. Queueing a run is a database write (``io`` lane);
the run itself is a child process (``process`` lane); a run's stored curves are read in the ``io`` lane.
``refresh()`` is the tab's dashboard reload, called when a run starts or ends (and every 3 s while a run
this window did not start is running).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from medstation.training.agent.claims import agent_of
from medstation.training.agent.placement import agent_name
from medstation.ui.admin.plots import CurvesPlot
from medstation.ui.errors import report_failure
from medstation.ui.runner import Lane
from medstation.ui.viewer.status_line import StatusLine


def trained_message(label: str, result: dict) -> str:
    """One status line for a finished run or search (``result``: the job's dict)."""
    if result.get("model_version_id") is None:  # beat nothing: no candidate, said plainly
        return f"{label} finished with no change: {result.get('note') or 'nothing was registered'}."
    text = f"{label} registered candidate #{result['model_version_id']}"
    search = result.get("search")
    if search:
        best = search["best"]
        failed = sum(t["status"] == "failed" for t in search["trials"])
        text += (f" from the best of {len(search['trials'])} trials (lr {best['lr']:g}, {best['epochs']} epochs, "
                 f"validation Dice {best['val_dice']:.3f}{f'; {failed} failed' if failed else ''})")
    return text


class TrainingControls(QObject):
    """``parent_widget``: the Admin tab; ``status``: its status line; ``refresh``: its dashboard reload."""

    def __init__(self, parent_widget: QWidget, training, runner, status, *, refresh: Callable[[], object]) -> None:
        super().__init__(parent_widget)
        self.parent_widget, self.training, self.runner, self.status = parent_widget, training, runner, status
        self.refresh = refresh
        self.train_handle = None
        self.datasets: list = []
        self.runs: list = []
        self.dataset_combo = QComboBox()
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["decoder", "full"])
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 100)
        self.epochs_spin.setValue(training.config.seg_epochs)
        self.search_box = QCheckBox("Search lr × epochs")
        self.search_box.setToolTip("Try a small grid of learning rates and epochs on the validation split "
                                   "(one run per trial, so several times slower) and register only the best")
        self.train_button = QPushButton("Train")
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setEnabled(False)
        self.schedule_label = StatusLine(max_lines=1)
        self.split_warning = QLabel("")
        self.split_warning.setWordWrap(True)
        self.split_warning.setStyleSheet("color: #a05000;")
        self.curves = CurvesPlot()
        self.outside_poll = QTimer(self)  # follows a run this window did not start (the command line's)
        self.outside_poll.setInterval(3000)
        self.outside_poll.timeout.connect(refresh)
        self.train_button.clicked.connect(self.train)
        self.cancel_button.clicked.connect(self.cancel)
        self.dataset_combo.currentIndexChanged.connect(self.show_split_warnings)

    def controls_row(self) -> QVBoxLayout:
        """What to train on (dataset, mode, epochs) above how to run it (search, train, cancel): two rows, so
        every label stays whole in half of a 1280 px window."""
        what, how = QHBoxLayout(), QHBoxLayout()
        for label, widget in (("Dataset", self.dataset_combo), ("Mode", self.mode_combo), ("Epochs", self.epochs_spin)):
            what.addWidget(QLabel(label))
            what.addWidget(widget, 1 if widget is self.dataset_combo else 0)
        how.addWidget(self.search_box)
        how.addStretch(1)
        for widget in (self.train_button, self.cancel_button):
            how.addWidget(widget)
        rows = QVBoxLayout()
        rows.addLayout(what)
        rows.addLayout(how)
        return rows

    # --- what the dashboard read --------------------------------------------------------------------

    def show_loaded(self, data: dict) -> None:
        """The dashboard's datasets, runs, schedules and latest curves (``load_dashboard``'s dict)."""
        self.datasets, self.runs = data["datasets"], data["runs"]
        current = self.dataset_combo.currentData()
        self.dataset_combo.clear()
        for v in self.datasets:
            self.dataset_combo.addItem(f"{v.label}: {v.n_cases} cases", v.id)
        if current is not None and self.dataset_combo.findData(current) >= 0:
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(current))
        self.schedule_label.setText("; ".join(s.describe() for s in data["schedules"]) or "No retraining schedule.")
        if self.train_handle is None:
            self.curves.set_history(data["metrics"])
        self.follow_outside_run()
        self.show_split_warnings()

    def show_split_warnings(self) -> None:
        """Modalities the chosen dataset does not hold out for validation and test, said before training."""
        dataset_id = self.dataset_combo.currentData()
        version = next((v for v in self.datasets if v.id == dataset_id), None)
        warnings = version.split_warnings if version is not None else []
        self.split_warning.setText("\n".join(f"⚠ {w}." for w in warnings))

    def follow_outside_run(self) -> None:
        """A run started elsewhere (``medstation train``) shows live: its stored phase and progress, its curves."""
        running = next((r for r in self.runs if r.status.value == "running"), None)
        if running is None or self.train_handle is not None:
            self.outside_poll.stop()
            return
        progress, claim = running.progress, agent_of(running)
        where = f", on {agent_name(claim)}" if claim else ""  # a training agent's machine
        self.status.setText(f"run #{running.id} (started by {running.requested_by or 'another process'}{where}): "
                            f"{progress.get('message', 'starting')} ({progress.get('fraction', 0.0):.0%})")
        if not self.outside_poll.isActive():
            self.outside_poll.start()

    def show_run(self, run_id: int) -> None:
        """The stored curves of run ``run_id`` (read in the io lane), unless a run of ours is drawing live."""
        if self.train_handle is None:
            handle = self.runner.submit(Lane.IO, lambda ctx: self.training.run_metrics(run_id), name="run curves",
                                        queue=True)
            handle.sig_done.connect(self.curves.set_history)

    # --- train, watch, cancel ----------------------------------------------------------------------

    def train(self):
        """Queue a run (a database write: io lane), then train it in the process lane; or start a search."""
        dataset_id = self.dataset_combo.currentData()
        if dataset_id is None:
            self.status.setText("Build or import a dataset first (the Datasets section).")
            return None
        epochs, mode = self.epochs_spin.value(), self.mode_combo.currentText()
        if self.search_box.isChecked():  # the job queues the search run and its trials itself
            handle = self.runner.submit(Lane.PROCESS, self.training.search_segmentation, int(dataset_id),
                                        epochs=epochs, mode=mode, name="hyperparameter search", queue=True,
                                        requester=self)
            self._watch(handle, "search")
            return handle
        training = self.training
        queued = self.runner.submit(Lane.IO, lambda ctx: training.queue_segmentation(int(dataset_id), epochs=epochs,
                                                                                      mode=mode),
                                    name="queue training", queue=True)
        queued.sig_done.connect(self._on_run_queued)
        queued.sig_failed.connect(lambda m, d, e=None: report_failure(self.parent_widget, "", m, d, e, self.status))
        return queued

    def _on_run_queued(self, run) -> None:
        handle = self.runner.submit(Lane.PROCESS, self.training.run_queued, run.id, name=f"training run {run.id}",
                                    queue=True, requester=self)
        self._watch(handle, f"run #{run.id}")

    def _watch(self, handle, label: str) -> None:
        self.curves.clear()
        self.train_handle = handle
        self.cancel_button.setEnabled(True)
        handle.sig_progress.connect(lambda f, m: self.status.setText(f"{label}: {m} ({f:.0%})"))
        handle.sig_partial.connect(self._on_partial)
        handle.sig_done.connect(lambda r: self.status.setText(trained_message(label, r)))
        handle.sig_failed.connect(lambda m, d, e=None: report_failure(self.parent_widget, "Admin", m, d, e,
                                                                      self.status))
        handle.sig_cancelled.connect(lambda: self.status.setText(f"{label} cancelled; no model registered."))
        handle.sig_finished.connect(self._on_finished)
        self.refresh()

    def _on_partial(self, data) -> None:
        if isinstance(data, dict):
            if data.get("kind") == "trial_start":  # each search trial draws its own curves
                self.curves.clear()
                self.status.setText(f"search trial {data['trial']}/{data['trials']}: lr {data['lr']:g}, "
                                    f"{data['epochs']} epochs")
            self.curves.add_partial(data)

    def _on_finished(self) -> None:
        self.train_handle = None
        self.cancel_button.setEnabled(False)
        self.refresh()

    def cancel(self) -> None:
        if self.train_handle is not None:
            self.train_handle.cancel()  # the service marks the run cancelled and audits it
