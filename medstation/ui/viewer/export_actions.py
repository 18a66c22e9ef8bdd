"""The viewer tab's export actions: a PNG screenshot of the views and a de-identified copy of the series.

A mixin of :class:`~medstation.ui.viewer.tab.ViewerTab`, relying on its attributes (``view_area``,
``status``, ``settings``, ``imaging``, ``session``, ``_series_uid``) and its ``_submit`` helper. Writing runs
in the ``io`` lane; screenshots and the de-identified export are audited as the session's actor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from medstation.access.roles import Permission
from medstation.ui.errors import show_error


def save_image_job(ctx, image, path: str) -> str:
    """Job: write a QImage (thread-safe, unlike QPixmap) to ``path`` as PNG."""
    ctx.check()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)



class ExportActions:
    """Screenshot and de-identified export, asking where to write when no destination is given."""

    def export_screenshot(self, path: str | None = None):
        """Save the image area as PNG (asks where when ``path`` is None). Returns the job handle."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", str(Path.home() / "medstation.png"), "PNG (*.png)")
            if not path:
                return None
        image = self.view_area.grab().toImage()
        return self._submit(self._screenshot_job, image, path, self._shown_series_uid(), name="screenshot",
                            on_done=lambda p: self.status.setText(f"Saved {p}"), error_title="Screenshot")

    def _screenshot_job(self, ctx, image, path: str, series_uid: str) -> str:
        """Job (io lane): write the PNG, then audit ``viewer.screenshot`` (patient pixels left the app)."""
        actor = self.session.require(Permission.view_imaging)
        saved = save_image_job(ctx, image, path)
        self.imaging.db.audit("viewer.screenshot", actor=actor, entity="series", entity_id=series_uid, path=saved)
        return saved

    def _shown_series_uid(self) -> str:
        """The series on screen. While another one loads, ``_series_uid`` already names the one loading; what
        the user exports or photographs is what they see."""
        volume = getattr(self, "_volume", None)
        return volume.series_uid if volume is not None else ""

    def export_deidentified(self, out_dir: str | None = None):
        """Write a de-identified copy of the series on screen (asks where when ``out_dir`` is None)."""
        series_uid = self._shown_series_uid()
        if not series_uid:
            show_error(self, "Export", "Open a series first (wait until it is on screen).")
            return None
        if out_dir is None:
            out_dir = QFileDialog.getExistingDirectory(self, "Export de-identified series to…", str(self.settings.exports_dir))
            if not out_dir:
                return None
        return self._submit(self._export_job, series_uid, out_dir, name="export",
                            on_done=lambda report, uid=series_uid: self._on_exported(report, uid), error_title="Export")

    def _export_job(self, ctx, series_uid, target, **options):
        """Job (io lane): the export, audited as the session's actor (a refusal becomes a status line)."""
        actor = self.session.require(Permission.export_imaging).name
        return self.imaging.export_deidentified_job(ctx, series_uid, target, actor=actor, **options)

    def _on_exported(self, report, series_uid: str) -> None:
        text = f"De-identified {len(report.files)} file(s) to {report.out_dir}"
        if report.skipped:
            text += f"; {len(report.skipped)} refused: {report.warnings[0]}"
        self.status.setText(text)
        if report.refused_for_burned_in:  # ask to confirm or mask, then export just those files again
            from medstation.ui.viewer import deid_dialog  # lazy: the de-identification modules, off the cold start

            request = deid_dialog.ask_burned_in_decision(self, report)
            if request is not None:
                self._submit(self._export_job, series_uid, report.out_dir, name="export",
                             on_done=lambda again, uid=series_uid: self._on_exported(again, uid), error_title="Export",
                             request=request,
                             paths=list(report.refused_for_burned_in))
