"""Read-only queries over the imaging index: the patient → study → series tree and series files.

Returns frozen dataclasses (safe to hand across threads), never ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from medstation.store.database import Database
from medstation.store.tables import Instance, Patient, Series, Study


@dataclass(frozen=True)
class SeriesInfo:
    id: int
    series_uid: str
    modality: str
    description: str
    series_number: int | None
    date: str
    rows: int | None
    columns: int | None
    n_instances: int


@dataclass(frozen=True)
class StudyInfo:
    id: int
    study_uid: str
    date: str
    time: str
    description: str
    accession: str
    series: tuple[SeriesInfo, ...]

    @property
    def modalities(self) -> str:
        return "/".join(sorted({s.modality for s in self.series if s.modality}))

    @property
    def n_instances(self) -> int:
        return sum(s.n_instances for s in self.series)


@dataclass(frozen=True)
class PatientInfo:
    id: int
    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: tuple[StudyInfo, ...]

    @property
    def display_name(self) -> str:
        return self.name.replace("^", " ").strip() or "(no name)"


def catalog(db: Database) -> list[PatientInfo]:
    """The whole index as a tree, patients by name, studies newest first, series by number."""
    with db.session() as s:
        patients = s.exec(select(Patient)).all()
        studies = s.exec(select(Study)).all()
        series = s.exec(select(Series)).all()
    series_by_study: dict[int, list[SeriesInfo]] = {}
    for r in series:
        series_by_study.setdefault(r.study_id, []).append(
            SeriesInfo(r.id, r.series_uid, r.modality, r.description, r.series_number, r.series_date, r.rows, r.columns, r.n_instances)
        )
    studies_by_patient: dict[int, list[StudyInfo]] = {}
    for r in studies:
        items = sorted(series_by_study.get(r.id, []), key=lambda x: (x.series_number is None, x.series_number or 0, x.description))
        studies_by_patient.setdefault(r.patient_id, []).append(
            StudyInfo(r.id, r.study_uid, r.study_date, r.study_time, r.description, r.accession, tuple(items))
        )
    out = []
    for r in patients:
        items = sorted(studies_by_patient.get(r.id, []), key=lambda x: (x.date, x.time), reverse=True)
        out.append(PatientInfo(r.id, r.patient_id, r.patient_name, r.birth_date, r.sex, tuple(items)))
    return sorted(out, key=lambda p: (p.display_name.lower(), p.patient_id))


def series_paths(db: Database, series_uid: str) -> list[str]:
    """Files of one series as indexed (order does not matter: the loader sorts by position)."""
    with db.session() as s:
        row = s.exec(select(Series).where(Series.series_uid == series_uid)).first()
        if row is None:
            return []
        return [i.path for i in s.exec(select(Instance).where(Instance.series_id == row.id)).all()]


def series_load_inputs(db: Database, series_uid: str) -> tuple[list[str], dict[str, dict]]:
    """(paths, cache): the series' files and, for files unchanged since indexing (same size and
    mtime), their ``header_cache`` so the loader can skip parsing them."""
    import os

    with db.session() as s:
        row = s.exec(select(Series).where(Series.series_uid == series_uid)).first()
        if row is None:
            return [], {}
        instances = s.exec(select(Instance).where(Instance.series_id == row.id)).all()
    paths, cache = [], {}
    for inst in instances:
        paths.append(inst.path)
        try:
            st = os.stat(inst.path)
        except OSError:
            continue  # the loader reports the missing file
        if inst.header_cache and st.st_size == inst.file_size and abs(st.st_mtime - inst.mtime) < 1e-6:
            cache[inst.path] = inst.header_cache
    return paths, cache
