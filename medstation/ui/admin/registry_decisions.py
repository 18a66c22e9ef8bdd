"""Registry decisions of the Admin tab: promote through the gate, force-promote with a reason, roll back.

The gate, the permission check and the audit event (with the reason) live in
:class:`~medstation.training.service.TrainingService`; this object asks the admin for the reason
(:func:`medstation.ui.admin.reason_dialog.ask_reason`: a forced promotion also needs a tick, a
rollback says what becomes active and needs a tick) and runs the change in the ``io`` lane.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from medstation.ui.admin import reason_dialog
from medstation.ui.errors import report_failure
from medstation.ui.runner import Lane


class RegistryDecisions(QObject):
    """``selected()``: the registry row chosen (ModelVersionInfo or None); ``models()``: every version shown;
    ``verdict()``: the A/B text on screen ('' when none); ``status``: the tab's status line."""

    sig_changed = Signal()  # which version is active changed

    def __init__(self, parent_widget: QWidget, training, runner, status, *, selected: Callable, models: Callable,
                 verdict: Callable[[], str]) -> None:
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self.training, self.runner, self.status = training, runner, status
        self.selected, self.models, self.verdict = selected, models, verdict

    def promote(self):
        """Promote the selected version through the gate (its A/B must recommend it)."""
        version = self.selected()
        if version is None:
            self.status.setText("Select a candidate in the registry first.")
            return None
        return self._act(self.training.promote, (version.id,), {}, f"#{version.id} is now active.")

    def force_promote(self):
        """Promote past the gate: the reason is required and goes into the ``admin.promote`` audit event."""
        version = self.selected()
        if version is None:
            self.status.setText("Select a candidate in the registry first.")
            return None
        verdict = self.verdict() or "No A/B comparison is stored for it."
        reason = reason_dialog.ask_reason(
            self.parent_widget, "Force promotion",
            f"Make {version.label()} the active {version.kind.value} model without a recommending A/B result. "
            f"Every later mask or draft of this kind uses it.\n\nLatest A/B: {verdict}",
            "Force promote", confirm="I take responsibility for promoting past the gate.")
        if reason is None:
            self.status.setText("Forced promotion cancelled; nothing changed.")
            return None
        return self._act(self.training.promote, (version.id,), {"force": True, "reason": reason},
                         f"#{version.id} force-promoted (reason recorded in the audit log).")

    def rollback(self):
        """Roll back the selected version's kind (default segmentation) after a confirmation and a reason."""
        version = self.selected()
        kind = version.kind.value if version is not None else "segmentation"
        active = next((v for v in self.models() if v.kind.value == kind and v.status.value == "active"), None)
        previous = active.previous_active_id if active is not None else None
        what = (f"The active {kind} model {active.label()} is replaced by " if active else f"The active {kind} model "
                "is replaced by ") + (f"#{previous}, the one active before it." if previous else
                                     "the one active before it.")
        reason = reason_dialog.ask_reason(self.parent_widget, f"Roll back the {kind} model", what, "Roll back",
                                          confirm=f"Roll back the {kind} model now.")
        if reason is None:
            self.status.setText("Rollback cancelled; nothing changed.")
            return None
        return self._act(self.training.rollback, (kind,), {"reason": reason}, "Rolled back.")

    def _act(self, fn, args: tuple, kwargs: dict, done: str):
        """Run a registry change (``fn(*args, **kwargs)``, a TrainingService method) in the io lane."""
        self.status.setText("Working…")
        handle = self.runner.submit(Lane.IO, lambda ctx: fn(*args, **kwargs), name="registry change", queue=True)
        handle.sig_done.connect(lambda info: self._on_act_done(done, info))
        # a refusal (the gate, a missing permission) is a sentence on the status line, a bug a dialog
        handle.sig_failed.connect(lambda m, d, e=None: report_failure(self.parent_widget, "", m, d, e, self.status))
        return handle

    def _on_act_done(self, done: str, info) -> None:
        self.status.setText(f"{done} Active: {info.label()}")
        self.sig_changed.emit()

