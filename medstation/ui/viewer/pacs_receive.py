"""The PACS dialog's "Receive" box: turn our C-STORE listener on and off, see its AE title, port and counts.

Starting and stopping are short jobs in the runner's ``background`` lane (binding a port, then
indexing what is queued and auditing ``pacs.receive``); while on, the listener runs on pynetdicom's
threads and indexes on its own thread, so neither the GUI thread nor a lane is held. A timer reads
its counters once a second and ``sig_indexed`` tells the viewer to refresh its browser.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout, QWidget


class ReceiverBox(QGroupBox):
    """``service``: a PacsService; ``runner``: the JobRunner; ``address()`` -> (our AE title, our port)."""

    sig_indexed = Signal(int)  # instances indexed so far (emitted when the count grows)

    def __init__(self, service, runner, address, parent: QWidget | None = None) -> None:
        super().__init__("Receive (studies pushed to this workstation)", parent)
        self.service, self.runner, self.address = service, runner, address
        self.receiver = None
        self._indexed = 0
        layout = QVBoxLayout(self)
        self.enabled = QCheckBox("Listen for C-STORE (our AE title and listener port above)")
        self.enabled.toggled.connect(self._on_toggled)
        self.state = QLabel("Off.", wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.enabled)
        layout.addWidget(self.state)
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._on_tick)

    def _on_toggled(self, on: bool) -> None:
        if on:
            ae_title, port = self.address()
            self.enabled.setEnabled(False)
            self.state.setStyleSheet("")
            self.state.setText(f"Starting {ae_title} on port {port}…")
            handle = self.runner.submit("background", self.service.start_receiver_job, ae_title=ae_title, port=port,
                                        name="pacs listener start")
            handle.sig_done.connect(self._on_started)
            handle.sig_failed.connect(self._on_start_failed)
            handle.sig_finished.connect(lambda: self.enabled.setEnabled(True))
        elif self.receiver is not None:
            self.stop()

    def _on_started(self, receiver) -> None:
        self.receiver, self._indexed = receiver, 0
        if not self.enabled.isChecked():  # turned off while starting
            self.stop()
            return
        self._timer.start()
        self._on_tick()

    def _on_start_failed(self, message: str, *_) -> None:
        self.enabled.blockSignals(True)
        self.enabled.setChecked(False)
        self.enabled.blockSignals(False)
        self.state.setStyleSheet("color: #b00020;")
        self.state.setText(message)

    def _on_tick(self) -> None:
        r = self.receiver
        if r is None:
            return
        self.state.setText(f"Listening as {r.listener.ae_title} on port {r.listener.port} (all interfaces): "
                           f"{r.received} instances received, {r.indexed} indexed.")
        if r.indexed > self._indexed:
            self._indexed = r.indexed
            self.sig_indexed.emit(r.indexed)

    def stop(self):
        """Stop the listener (a background job); returns its handle, or None when it was not running."""
        receiver, self.receiver = self.receiver, None
        self._timer.stop()
        if receiver is None:
            return None
        self.state.setText(f"Stopping {receiver.address}…")
        handle = self.runner.submit("background", receiver.stop, name="pacs listener stop")
        handle.sig_done.connect(lambda n: (self.state.setText(f"Off. {n} instances were received."),
                                           self.sig_indexed.emit(receiver.indexed)))
        handle.sig_failed.connect(lambda message, *_: self.state.setText(message))
        return handle
