"""Header-only indexing of DICOM files into the store (a job).

Walks folders recursively, reads each new or changed file with
``dcmread(stop_before_pixels=True)`` and upserts patient → study → series →
instance rows. Incremental: a file whose path, size and mtime match its
instance row is not read again. Files that vanished from an indexed folder are
removed from the index. Non-DICOM and broken files are reported, never fatal.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from medstation.imaging.decode import native_pixel_location
from medstation.imaging.headers import (
    default_window,
    frame_headers,
    frame_to_cache,
    instance_identity,
    legacy_folder_series_uid,
    overlay_meta,
    read_dicom,
)
from medstation.jobs import JobContext
from medstation.store.database import Database
from medstation.store.engine import lock_for_write, row_lock_key
from medstation.store.tables import Instance, Patient, Segmentation, Series, Study, ViewerAnnotation

# Commit every this many files so a long index survives a crash and readers see progress.
BATCH = 200


@dataclass
class IndexReport:
    """What an indexing run did. ``problems`` = [(path, reason)] of files that were skipped."""

    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    elsewhere: int = 0  # images already indexed from another file that still exists (that file is kept)
    problems: list[tuple[str, str]] = field(default_factory=list)
    series_uids: list[str] = field(default_factory=list)  # every series with a file among the paths

    def summary(self) -> str:
        return (
            f"{self.scanned} files: {self.added} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.problems)} skipped"
            + (f", {self.elsewhere} already indexed from another folder (those files are used)" if self.elsewhere else "")
        )


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(files, folders): every regular file under the given folders (recursive) plus the given files."""
    files, folders = [], []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            folders.append(p.resolve())
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(Path(root, n).resolve() for n in sorted(names) if not n.startswith("."))
        elif p.is_file():
            files.append(p.resolve())
    return files, folders


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_header(path: Path):
    """``(dataset, None)`` without pixel data, or ``(None, reason)``."""
    return read_dicom(path, stop_before_pixels=True)


def header_cache(ds, path: Path, file_size: int) -> dict:
    """What the loader needs to skip header parsing later (empty when the file is not a plain image)."""
    try:
        frames = [frame_to_cache(h) for h in frame_headers(ds, path)]
    except Exception:  # not an image, or malformed geometry: the loader will parse the file itself
        return {}
    return {
        "frames": frames,
        "pixel": native_pixel_location(ds, str(path), file_size),
        "window": default_window(ds),
        "meta": overlay_meta(ds),
        "transfer_syntax": str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or ""),
    }


class _Upserter:
    """Caches ids of rows touched during one batch so each parent is looked up once."""

    def __init__(self, session) -> None:
        self.s = session
        self.patients: dict[str, int] = {}
        self.studies: dict[str, int] = {}
        self.series: dict[str, int] = {}
        self.previous_series: set[int] = set()

    def _id_for(self, cache: dict[str, int], table, column, key: str, make) -> int:
        """Id of the ``table`` row whose ``column`` equals ``key``; ``make()`` builds it when there is none."""
        if key not in cache:
            row = self.s.exec(select(table).where(column == key)).first()
            if row is None:
                row = make()
                self.s.add(row)
                self.s.flush()
            cache[key] = row.id
        return cache[key]

    def patient(self, ds, study_uid: str) -> int:
        key = f"{_text(ds, 'PatientID')}|{_text(ds, 'PatientName')}"
        if key == "|":  # no patient identity: one patient per study, never one "(no name)" for every such file
            key = f"(no identity)|{study_uid}"
        return self._id_for(self.patients, Patient, Patient.patient_key, key, lambda: Patient(
            patient_key=key,
            patient_id=_text(ds, "PatientID"),
            patient_name=_text(ds, "PatientName"),
            birth_date=_text(ds, "PatientBirthDate"),
            sex=_text(ds, "PatientSex"),
        ))

    def study(self, ds, uid: str) -> int:
        return self._id_for(self.studies, Study, Study.study_uid, uid, lambda: Study(
            patient_id=self.patient(ds, uid),
            study_uid=uid,
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            description=_text(ds, "StudyDescription"),
            accession=_text(ds, "AccessionNumber"),
        ))

    def series_row(self, ds, uid: str, study_uid: str) -> int:
        return self._id_for(self.series, Series, Series.series_uid, uid, lambda: Series(
            study_id=self.study(ds, study_uid),
            series_uid=uid,
            modality=_text(ds, "Modality"),
            description=_text(ds, "SeriesDescription"),
            series_number=_int_or_none(ds.get("SeriesNumber")),
            series_date=_text(ds, "SeriesDate") or _text(ds, "StudyDate"),
            rows=_int_or_none(ds.get("Rows")),
            columns=_int_or_none(ds.get("Columns")),
        ))

    def instance(self, ds, path: Path, stat: os.stat_result, existing: Instance | None) -> bool:  # noqa: C901
        """Insert or refresh the instance row (``existing`` = the row with the same SOP UID); True if new."""
        sop, series_uid, study_uid = instance_identity(ds, path)
        row = existing
        is_new = row is None
        if row is not None and row.series_id:
            self.previous_series.add(row.series_id)  # a moved file leaves its old series to recount
        if row is None:
            row = Instance(series_id=0, sop_uid=sop, path=str(path))
        row.series_id = self.series_row(ds, series_uid, study_uid)
        row.sop_uid = sop
        row.path = str(path)
        row.instance_number = _int_or_none(ds.get("InstanceNumber"))
        row.n_frames = max(1, _int_or_none(ds.get("NumberOfFrames")) or 1)
        row.file_size = stat.st_size
        row.mtime = stat.st_mtime
        row.header_cache = header_cache(ds, path, stat.st_size)
        self.s.add(row)
        return is_new


def _remove_vanished(session, folders: list[Path], present: set[str]) -> tuple[int, set[int]]:
    removed, touched = 0, set()
    for folder in folders:
        prefix = str(folder).rstrip(os.sep) + os.sep
        rows = session.exec(select(Instance).where(Instance.path.startswith(prefix))).all()  # type: ignore[attr-defined]
        for row in rows:
            if row.path not in present and not Path(row.path).exists():
                touched.add(row.series_id)
                session.delete(row)
                removed += 1
    return removed, touched


def _refresh_counts(session, series_ids: set[int]) -> None:
    """Recount instances of touched series; drop series, studies and patients left empty."""
    from sqlalchemy import func

    for sid in series_ids:
        series = session.get(Series, sid)
        if series is None:
            continue
        count = session.exec(select(func.count()).select_from(Instance).where(Instance.series_id == sid)).one()
        if count == 0:
            study_id = series.study_id
            session.delete(series)
            session.flush()
            if session.exec(select(func.count()).select_from(Series).where(Series.study_id == study_id)).one() == 0:
                study = session.get(Study, study_id)
                patient_id = study.patient_id
                session.delete(study)
                session.flush()
                if session.exec(select(func.count()).select_from(Study).where(Study.patient_id == patient_id)).one() == 0:
                    session.delete(session.get(Patient, patient_id))
        else:
            series.n_instances = int(count)
            session.add(series)


def _carry_work_to_new_identity(session, renamed: dict[str, str]) -> None:
    """Segments and measurements saved under a blank-UID series' old folder-derived UID follow it to the
    content-derived UID, so nothing saved before the change is lost."""
    for old, new in renamed.items():
        for table in (Segmentation, ViewerAnnotation):
            for row in session.exec(select(table).where(table.series_uid == old)).all():
                row.series_uid = new
                session.add(row)


#: Files that travel beside DICOM images: a CD's or download's README, licence and provenance notes,
#: viewer help. They are read like any file (a DICOM file may have any name), but one found in a folder
#: that is not DICOM is not reported as skipped: a radiologist cannot act on "README.TXT is not a DICOM
#: file". A file picked by name is always reported.
COMPANION_SUFFIXES = frozenset({".txt", ".md", ".pdf", ".htm", ".html", ".xml", ".json", ".csv", ".inf", ".ini",
                                ".rtf", ".css", ".js", ".exe", ".dll"})
COMPANION_STEMS = frozenset({"readme", "license", "licence", "copying", "provenance", "autorun", "thumbs",
                             ".ds_store", "notice"})
NOT_DICOM = "not a DICOM file"  # the reason read_dicom gives


def is_companion_document(path: Path) -> bool:
    return path.suffix.lower() in COMPANION_SUFFIXES or path.stem.lower() in COMPANION_STEMS


def index_paths(ctx: JobContext, db: Database, paths: Iterable[str | Path]) -> IndexReport:
    """Index DICOM files and folders (recursive) into ``db``; returns an :class:`IndexReport`."""
    ctx.report(0.0, "listing files")
    paths = list(paths)
    files, folders = collect_files(paths)
    named = {Path(p).resolve() for p in paths if Path(p).is_file()}  # files the user picked: always reported
    report = IndexReport(scanned=len(files))
    touched_series: set[int] = set()
    unchanged_series: set[int] = set()  # series of files already indexed: still "found here"
    series_uids: set[str] = set()
    # SOP Instance UID -> the file that holds it in this run: a second file with the same UID is a copy
    # (or a hostile file); it is skipped with a reason instead of failing the whole index on the unique key.
    seen_sop: dict[str, str] = {}
    renamed: dict[str, str] = {}  # folder-derived series UID (before 1c99c71's successor) -> content-derived one
    for start in range(0, len(files), BATCH):
        batch = files[start : start + BATCH]
        with db.session() as s:
            by_path = {
                row.path: row
                for row in s.exec(select(Instance).where(Instance.path.in_([str(p) for p in batch]))).all()  # type: ignore[attr-defined]
            }
            fresh = []  # (path, stat, dataset, identity) of new or changed files
            for offset, path in enumerate(batch):
                ctx.check()
                try:
                    stat = path.stat()
                except OSError as exc:
                    report.problems.append((str(path), f"cannot stat ({exc.strerror})"))
                    continue
                old = by_path.get(str(path))
                if old is not None and old.file_size == stat.st_size and abs(old.mtime - stat.st_mtime) < 1e-6:
                    report.unchanged += 1
                    seen_sop.setdefault(old.sop_uid, str(path))
                    touched_series.add(old.series_id)
                    unchanged_series.add(old.series_id)
                    continue
                ds, reason = read_header(path)
                if ds is None:
                    if not (reason == NOT_DICOM and path not in named and is_companion_document(path)):
                        report.problems.append((str(path), reason))
                    continue
                fresh.append((path, stat, ds, instance_identity(ds, path)))
                done = start + offset + 1
                if done % 20 == 0:
                    ctx.report(0.95 * done / len(files), f"indexing {done}/{len(files)}")
            # Processes indexing the same patient upsert one at a time (headers were read above, unlocked).
            # SQLite: nothing was written in this transaction yet, so BEGIN IMMEDIATE is still allowed here.
            lock_for_write(s.connection(), row_lock_key("imaging_index", 0))
            by_sop = {
                row.sop_uid: row
                for row in s.exec(select(Instance).where(Instance.sop_uid.in_([f[3][0] for f in fresh]))).all()  # type: ignore[attr-defined]
            }
            up = _Upserter(s)
            with s.no_autoflush:
                for path, stat, ds, (sop_uid, series_uid, _study_uid) in fresh:
                    first = seen_sop.setdefault(sop_uid, str(path))
                    if first != str(path):
                        report.problems.append((str(path), f"same SOP Instance UID as {first} (a copy?): skipped"))
                        continue
                    kept = by_sop.get(sop_uid)
                    if kept is not None and kept.path != str(path) and Path(kept.path).is_file():
                        # The image is indexed from a file that is still there: this one is a copy, maybe a
                        # broken one (a half-copied stick). Re-pointing would let it replace the good file;
                        # only a file that moved (its old path is gone) takes the instance over.
                        seen_sop[sop_uid] = kept.path
                        report.elsewhere += 1
                        kept_series = s.get(Series, kept.series_id)
                        if kept_series is not None:
                            series_uids.add(kept_series.series_uid)
                        continue
                    old = by_path.get(str(path))
                    if old is not None and old.sop_uid != sop_uid:  # the file now holds another image
                        touched_series.add(old.series_id)
                        s.delete(old)
                        s.flush()
                    is_new = up.instance(ds, path, stat, by_sop.get(sop_uid))
                    legacy = legacy_folder_series_uid(ds, path)
                    if legacy is not None and legacy != series_uid:
                        renamed.setdefault(legacy, series_uid)
                    report.added += int(is_new)
                    report.updated += int(not is_new)
                    series_uids.add(series_uid)
            s.flush()
            touched_series.update(up.series.values())
            touched_series.update(up.previous_series)
        ctx.report(0.95 * min(len(files), start + BATCH) / max(1, len(files)), "indexing")
    with db.session() as s:
        present = {str(p) for p in files}
        report.removed, vanished_series = _remove_vanished(s, folders, present)
        s.flush()
        _refresh_counts(s, touched_series | vanished_series)
        s.flush()
        _carry_work_to_new_identity(s, renamed)
        for sid in unchanged_series:
            row = s.get(Series, sid)
            if row is not None:
                series_uids.add(row.series_uid)
    report.series_uids = sorted(series_uids)
    ctx.report(1.0, report.summary())
    return report
