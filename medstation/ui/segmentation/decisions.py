"""The segmentation panel's measurements and decisions: debounced measuring, accept/reject, export.

Kept apart from ``panel.py`` (and from its other mixins) so each module stays readable. A mixin
of :class:`~medstation.ui.segmentation.panel.SegmentationPanel`, relying on its attributes
(``segments``, ``current_key``, ``volume``, ``service``, ``runner``, ``session``, the labels and table).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.segmentation.measure import measure, report_line
from medstation.segmentation.records import SegmentRecord
from medstation.segmentation.segments import SegmentStatus
from medstation.ui.errors import failure_slot


def _measure_job(ctx, mask, volume):
    ctx.check()
    return measure(mask, volume) if mask.any() else None


class MeasureAndDecide:
    """Measurements (newest request wins, after a pause in editing), accept/reject and export."""

    # -- measurements ---------------------------------------------------------------------------
    def _cancel_measure(self) -> None:
        """Drop a measurement in flight (it belongs to another segment or series now)."""
        if self._measure_handle is not None and not self._measure_handle.finished:
            self._measure_handle.cancel()
        self.measurements = None

    def _start_measure(self) -> None:
        """Measure the current segment once editing pauses; a newer request cancels the one in flight."""
        if not self._usable() or self.current_key not in self.segments.segments:
            return
        if self._measure_handle is not None and not self._measure_handle.finished:
            self._measure_handle.cancel()
        mask = self.segments.segments[self.current_key].mask.copy()  # one snapshot per pause, not per move
        handle = self.runner.submit("measure", _measure_job, mask, self.volume, name="measure", requester=self)
        # A bound method (not a lambda) so Qt drops the connection if this panel is destroyed first; the
        # runner disconnects the cancelled older requests, so the newest request is the only one that lands.
        handle.sig_done.connect(self._on_measured)
        self._measure_handle = handle

    def _on_measured(self, m) -> None:
        self.measurements = m
        self._show_measurements()

    def _show_measurements(self) -> None:
        seg = self.segments.segments.get(self.current_key) if self.segments else None
        index = self.viewer.current_slice()
        self.table.show_measurements(self.measurements, index)
        if seg is None:
            self.report_label.setText("")
            return
        state = seg.status.value.upper() + (" — FLAGGED" if seg.flags and seg.mask.any() else "")
        self.report_label.setText(f"[{state}] {report_line(seg.name, self.measurements)}")

    # -- decide and export ----------------------------------------------------------------------
    def _actor(self, permission: Permission) -> str:
        return self.session.require(permission).name if self.session is not None else ""

    def current_record(self) -> SegmentRecord:
        seg = self.segments.segments[self.current_key]
        return SegmentRecord(
            series_uid=self.segments.series_uid, name=seg.name, color=seg.color, mask=seg.mask.copy(),
            ai_mask=seg.ai_mask.copy(), engine=seg.engine,
            model_version_id=self.service.model_version_id(seg.engine or None) if self.service else None,
            prompts=list(seg.prompts), stored_id=seg.stored_id,
        )

    def decide(self, decision: str):
        if self.segments is None or self.service is None or self.current_key not in self.segments.segments:
            return None
        try:
            actor = self._actor(Permission.edit_imaging)
        except UserFacingError as exc:
            self.status_label.setText(str(exc))
            return None
        seg = self.segments.segments[self.current_key]
        if decision == "accepted" and not seg.mask.any():
            self.status_label.setText(f"{seg.name} is empty: draw or segment something before accepting it.")
            return None
        record = self.current_record()
        handle = self.runner.submit("io", self.service.decide, record, self.volume, decision, actor,
                                    name=f"segmentation {decision}", queue=True)
        handle.sig_done.connect(lambda result, s=seg, n=record.name: self._on_decided(s, result, n))
        handle.sig_failed.connect(failure_slot(self, "Save segmentation", self.status_label))
        return handle

    def _on_decided(self, seg, result: dict, saved_name: str | None = None) -> None:
        seg.stored_id = result["id"]
        seg.status = SegmentStatus(result["decision"])
        if saved_name is not None and seg.name != saved_name:
            self._store_rename(seg)  # renamed while the decision was being saved
        self.status_label.setText(f"{seg.name}: {result['decision']} and saved (#{result['id']}).")
        self._fill_segments()
        self._show_measurements()

    def export_segments(self, kind: str, path: str):
        """Export every non-empty segment (``kind`` = "nifti" or "dicom_seg") to ``path`` in the io lane."""
        from medstation.segmentation.export import ExportSegment

        if self.segments is None or self.service is None:
            return None
        try:
            actor = self._actor(Permission.export_imaging)
        except UserFacingError as exc:
            self.status_label.setText(str(exc))
            return None
        items = [
            ExportSegment(i + 1, seg.name, seg.mask.copy(), seg.engine or "manual", seg.model_version,
                          draft=seg.status != SegmentStatus.accepted)
            for i, seg in enumerate(s for s in self.segments.segments.values() if s.mask.any())
        ]
        if not items:
            self.status_label.setText("Nothing to export: every segment is empty.")
            return None
        drafts = [item.name for item in items if item.draft]
        if drafts and not self._confirm(
                "Export drafts",
                f"{len(drafts)} of {len(items)} segment(s) are drafts nobody has accepted: {', '.join(drafts)}. "
                "Export them anyway? The file will mark them DRAFT."):
            self.status_label.setText("Export cancelled: accept the drafts first, or export again to mark them DRAFT.")
            return None
        handle = self.runner.submit("io", self.service.export, kind, items, self.volume, path, actor,
                                    name=f"export {kind}", queue=True)
        marked = f" ({len(drafts)} marked DRAFT)" if drafts else ""
        handle.sig_done.connect(lambda p: self.status_label.setText(f"Exported to {p}{marked}"))
        handle.sig_failed.connect(failure_slot(self, "Export", self.status_label))
        return handle

    def _ask_export(self, kind: str) -> None:
        if self.segments is None:
            return
        suffix = "NIfTI (*.nii.gz)" if kind == "nifti" else "DICOM (*.dcm)"
        name = "segments.nii.gz" if kind == "nifti" else "segments_seg.dcm"
        default = str(self.exports_dir / name) if self.exports_dir else name
        path, _ = QFileDialog.getSaveFileName(self, "Export segments", default, suffix)
        if path:
            self.export_segments(kind, path)
