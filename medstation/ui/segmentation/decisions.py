"""The segmentation panel's measurements and decisions: debounced measuring, accept/reject, rename, export.

:class:`DecisionTool` measures the current segment in the ``measure`` lane once editing pauses (the newest
request wins) and runs the service's writes (decide, rename, export) in the ``io`` lane. What a decision
stores is the session's :meth:`~medstation.segmentation.session.SegmentationSession.record`; what the store
answered is applied by its ``mark_decided``. The accept call site is :meth:`DecisionTool.decide`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.segmentation.measure import measure
from medstation.ui.errors import failure_slot

MEASURE_DELAY_MS = 250  # measurements wait for a pause in editing (a stroke sends ~60 moves/s)


def _measure_job(ctx, mask, volume):
    ctx.check()
    return measure(mask, volume) if mask.any() else None


class DecisionTool(QObject):
    """Measurements, accept/reject, renaming a saved segment and export, for ``panel``'s session."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.model = panel.model
        self.measurements = None
        self._measure_handle = None
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)
        self._measure_timer.setInterval(MEASURE_DELAY_MS)
        self._measure_timer.timeout.connect(self._start_measure)

    # -- measurements ---------------------------------------------------------------------------
    def measure_soon(self) -> None:
        """Measure once editing pauses (each call restarts the wait)."""
        self._measure_timer.start()

    def cancel_measure(self) -> None:
        """Drop a measurement in flight (it belongs to another segment or series now)."""
        if self._measure_handle is not None and not self._measure_handle.finished:
            self._measure_handle.cancel()
        self.measurements = None

    def _start_measure(self) -> None:
        """Measure the current segment; a newer request cancels the one in flight."""
        if not self.panel._usable() or self.model.current is None:
            return
        if self._measure_handle is not None and not self._measure_handle.finished:
            self._measure_handle.cancel()
        mask = self.model.current.mask.copy()  # one snapshot per pause, not per move
        handle = self.panel.runner.submit("measure", _measure_job, mask, self.panel.volume, name="measure",
                                          requester=self.panel)
        # A bound method (not a lambda) so Qt drops the connection if this panel is destroyed first; the
        # runner disconnects the cancelled older requests, so the newest request is the only one that lands.
        handle.sig_done.connect(self._on_measured)
        self._measure_handle = handle

    def _on_measured(self, m) -> None:
        self.measurements = m
        self.show_measurements()

    def show_measurements(self) -> None:
        self.panel.table.show_measurements(self.measurements, self.panel.viewer.current_slice())
        self.panel.report_label.setText(self.model.report(self.measurements))

    # -- decide, rename and export --------------------------------------------------------------
    def _actor(self, permission: Permission) -> str:
        session = self.panel.session
        return session.require(permission).name if session is not None else ""

    def decide(self, decision: str, *, removal: bool = False):
        """Store the current segment as ``decision`` ("accepted" | "rejected") in the io lane; returns the handle.

        ``removal``: the rejection of a saved segment being removed (an Undo may bring it back first)."""
        panel, service = self.panel, self.panel.service
        seg = self.model.current
        if seg is None or service is None:
            return None
        try:
            actor = self._actor(Permission.edit_imaging)
        except UserFacingError as exc:
            panel.status_label.setText(str(exc))
            return None
        problem = self.model.decision_problem(decision)
        if problem is not None:
            panel.status_label.setText(problem)
            return None
        record = self.model.record(service.model_version_id(seg.engine or None))
        handle = panel.runner.submit("io", service.decide, record, panel.volume, decision, actor,
                                     name=f"segmentation {decision}", queue=True)
        segs = self.model.segments
        handle.sig_done.connect(lambda result, s=seg, n=record.name, sg=segs, r=removal: self._on_decided(s, result, n, sg, r))
        handle.sig_failed.connect(failure_slot(panel, "Save segmentation", panel.status_label))
        return handle

    def _on_decided(self, seg, result: dict, saved_name: str | None = None, segs=None, removal: bool = False) -> None:
        if removal and segs is not None and segs.segments.get(seg.key) is seg:
            # Undo brought the removed segment back before its rejection was saved: it stays a draft.
            seg.stored_id = result["id"]
            self.panel._fill_segments()
            return
        note, renamed = self.model.mark_decided(seg, result, saved_name)
        if renamed:
            self.store_rename(seg)  # renamed while the decision was being saved
        self.panel.status_label.setText(note)
        self.panel._fill_segments()
        self.show_measurements()

    def store_rename(self, seg) -> None:
        """A saved segment's new name is written at once (in the io lane), whatever its status."""
        panel = self.panel
        if panel.service is None:
            return
        try:
            actor = self._actor(Permission.edit_imaging)
        except UserFacingError as exc:
            panel.status_label.setText(str(exc))
            return
        handle = panel.runner.submit("io", panel.service.rename, seg.stored_id, seg.name, actor,
                                     name="rename segment", queue=True)
        handle.sig_done.connect(lambda name: panel.status_label.setText(f"Renamed to '{name}' and saved."))
        handle.sig_failed.connect(failure_slot(panel, "Rename segment", panel.status_label))

    def export_segments(self, kind: str, path: str):
        """Export every non-empty segment (``kind`` = "nifti" or "dicom_seg") to ``path`` in the io lane."""
        panel = self.panel
        if self.model.segments is None or panel.service is None:
            return None
        try:
            actor = self._actor(Permission.export_imaging)
        except UserFacingError as exc:
            panel.status_label.setText(str(exc))
            return None
        items = self.model.export_items()
        if not items:
            panel.status_label.setText("Nothing to export: every segment is empty.")
            return None
        drafts = [item.name for item in items if item.draft]
        if drafts and not panel._confirm(
                "Export drafts",
                f"{len(drafts)} of {len(items)} segment(s) are drafts nobody has accepted: {', '.join(drafts)}. "
                "Export them anyway? The file will mark them DRAFT."):
            panel.status_label.setText("Export cancelled: accept the drafts first, or export again to mark them DRAFT.")
            return None
        handle = panel.runner.submit("io", panel.service.export, kind, items, panel.volume, path, actor,
                                     name=f"export {kind}", queue=True)
        marked = f" ({len(drafts)} marked DRAFT)" if drafts else ""
        handle.sig_done.connect(lambda p: panel.status_label.setText(f"Exported to {p}{marked}"))
        handle.sig_failed.connect(failure_slot(panel, "Export", panel.status_label))
        return handle

    def ask_export(self, kind: str) -> None:
        panel = self.panel
        if self.model.segments is None:
            return
        suffix = "NIfTI (*.nii.gz)" if kind == "nifti" else "DICOM (*.dcm)"
        name = "segments.nii.gz" if kind == "nifti" else "segments_seg.dcm"
        default = str(panel.exports_dir / name) if panel.exports_dir else name
        path, _ = QFileDialog.getSaveFileName(panel, "Export segments", default, suffix)
        if path:
            self.export_segments(kind, path)
