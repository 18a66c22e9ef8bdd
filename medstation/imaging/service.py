"""``ImagingService``: the imaging facade the viewer and the command line use.

The constructor is cheap (no I/O, no heavy imports). Long work is exposed as job
functions bound to this service — ``index_job``, ``load_series_job``,
``export_deidentified_job`` — to be run with ``runner.submit("io", ...)`` or
directly with a :class:`~medstation.jobs.JobContext`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from medstation.access.roles import Permission, UserSession
from medstation.config import Settings, sample_study_dir
from medstation.imaging.catalog import PatientInfo, catalog, series_load_inputs, series_paths
from medstation.imaging.headers import ImagingError
from medstation.imaging.indexer import IndexReport, index_paths
from medstation.imaging.loader import load_series
from medstation.imaging.tags import list_tags
from medstation.imaging.volume import Volume
from medstation.jobs import JobContext
from medstation.store.database import Database


class ImagingService:
    """Index, browse, load and export DICOM series. Thread-safe: every call opens its own short session."""

    def __init__(self, settings: Settings, db: Database, *, session: UserSession) -> None:
        """``session``: who acts (the composition root's)."""
        self.settings = settings
        self.db = db
        self.session = session

    # -- index ---------------------------------------------------------------------------------
    def index_job(self, ctx: JobContext, paths: Iterable[str | Path]) -> IndexReport:
        """Job: index files/folders (recursive, incremental by path + size + mtime)."""
        self.session.require(Permission.view_imaging)
        report = index_paths(ctx, self.db, paths)
        self.db.audit("imaging.index", entity="paths", detail_summary=report.summary())
        return report

    def sample_study_path(self) -> Path:
        return sample_study_dir()

    def index_sample_job(self, ctx: JobContext) -> IndexReport:
        """Job: index the bundled sample CT (cheap when already indexed)."""
        path = self.sample_study_path()
        if not path.is_dir():
            raise ImagingError(f"the sample study is missing from this installation ({path})")
        return self.index_job(ctx, [path])

    def index_and_list_job(self, ctx: JobContext, paths: Iterable[str | Path] | None = None):
        """Job: index ``paths`` (the sample study when None), then return (report, patients tree)."""
        report = self.index_sample_job(ctx) if paths is None else self.index_job(ctx, paths)
        return report, self.patients()

    def list_job(self, ctx: JobContext) -> list[PatientInfo]:
        """Job: the patients tree (a database read; keep it off the GUI thread)."""
        return self.patients()

    def tags_job(self, ctx: JobContext, path: str | Path):
        """Job: (path, tag rows) of one file."""
        return str(path), self.tags(path)

    # -- browse --------------------------------------------------------------------------------
    def patients(self) -> list[PatientInfo]:
        """Patient → study → series tree with counts, modalities, dates and descriptions."""
        self.session.require(Permission.view_imaging)
        return catalog(self.db)

    def series_files(self, series_uid: str) -> list[str]:
        self.session.require(Permission.view_imaging)
        return series_paths(self.db, series_uid)

    def tags(self, path: str | Path):
        """Tag rows of one file for the tag browser (header only; fast enough for the io lane)."""
        self.session.require(Permission.view_imaging)
        return list_tags(path)

    # -- load ----------------------------------------------------------------------------------
    def load_series_job(self, ctx: JobContext, series_uid: str, *, time_point: int | None = None) -> Volume:
        """Job: load an indexed series into a :class:`Volume` (see ``medstation.imaging.loader``)."""
        actor = self.session.require(Permission.view_imaging)
        paths, cache = series_load_inputs(self.db, series_uid)
        if not paths:
            raise ImagingError("this series is not in the index any more; re-open its folder")
        if not any(Path(p).is_file() for p in paths):
            folders = sorted({str(Path(p).parent) for p in paths})
            raise ImagingError(f"the {len(paths)} file(s) of this series are no longer in {folders[0]}"
                               + (f" (and {len(folders) - 1} other folder(s))" if len(folders) > 1 else "")
                               + ": moved or deleted? Open the folder where they are now.")
        volume = load_series(ctx, paths, series_uid=series_uid, time_point=time_point, cache=cache)
        self.db.audit("imaging.view", actor=actor, entity="series", entity_id=series_uid, time_point=time_point)
        return volume

    # -- export --------------------------------------------------------------------------------
    def export_deidentified_job(self, ctx: JobContext, series_uid: str, out_dir: str | Path | None = None, *,
                                actor: str = "", request=None, paths: list[str] | None = None):
        """Job: write a de-identified copy of a series (or of ``paths`` of it, e.g. the files a first pass refused).

        ``request`` is a :class:`~medstation.imaging.deid.export.DeidRequest` (options, burned-in decision); None means the
        options of ``settings.deid_options`` and no burned-in decision. Returns a
        :class:`~medstation.imaging.deid.export.DeidReport`. Audited, burned-in decisions included."""
        # lazy: the de-identification modules are not needed to open the window (issue 22's cold start)
        from medstation.imaging.deid.export import DeidRequest, export_deidentified
        from medstation.imaging.deid.profile import DeidOption

        who = self.session.require(Permission.export_imaging)  # ``actor`` (a name) is kept for old callers
        paths = list(paths) if paths else self.series_files(series_uid)
        if not paths:
            raise ImagingError("this series is not in the index; nothing to export")
        target = Path(out_dir) if out_dir else self.settings.exports_dir / f"deid_{len(list(self.settings.exports_dir.glob('deid_*'))) + 1:04d}"
        if request is None:
            request = DeidRequest(options=frozenset(DeidOption(o) for o in self.settings.deid_options))
        report = export_deidentified(ctx, self.db, paths, target, request)
        audit_deid_export(self.db, report, actor=actor or who, entity="series", entity_id=series_uid)
        return report


def audit_deid_export(db: Database, report, *, actor="", entity: str = "files", entity_id: str = "") -> None:
    """One audit event per export: counts, options, refusals and every burned-in decision (never PHI values)."""
    db.audit(
        "imaging.export_deidentified",
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        out_dir=report.out_dir,
        files=len(report.files),
        skipped=len(report.refused),
        refused=[{"path": p, "reason": r} for p, r in report.refused],
        options=list(report.options),
        burned_in=[{"path": d.source, "reason": d.reason, "decision": d.decision, "pixels_blanked": d.pixels_blanked}
                   for d in report.burned_in],
    )
